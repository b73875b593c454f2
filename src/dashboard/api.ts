/**
 * The dashboard's HTTP API, compatible with Flower's where it fits
 * (`/api/workers`, `/api/tasks`, `/api/task/info/<id>`,
 * `/api/task/result/<id>`, `/api/task/async-apply/<name>`,
 * `/api/task/revoke/<id>`, `/api/task/rate-limit/<worker>`,
 * `/api/worker/pool/grow|shrink/<worker>`, `/api/worker/shutdown/<worker>`,
 * `/api/queues/length`), plus what the pages need (`/api/worker/info/<name>`,
 * `/api/task/resend/<id>`, `/api/queue/purge/<name>`, `/api/charts`).
 * Every change is a POST (checked for CSRF by the server).
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { consumedQueues } from "../app/routing.ts";
import type { TaskInfo } from "../events/state.ts";
import { censorConfig } from "./censor.ts";
import type { Monitor } from "./monitor.ts";
import { parsePythonLiteral } from "./python_literal.ts";
import { taskView } from "./task_view.ts";

/** What the API works on. */
export interface ApiContext {
  /** The app (broker, backend, control). */
  app: Celery;
  /** The live state. */
  monitor: Monitor;
}

/** An API error with its HTTP status. */
export class HttpError extends Error {
  /** An error answered with `status`. */
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Handler = (ctx: ApiContext, request: Request, param: string) => Promise<unknown> | unknown;

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  handler: Handler;
}

function query(request: Request): URLSearchParams {
  return new URL(request.url).searchParams;
}

/** The body of a POST as an object: JSON, or a form (Flower's clients send either). */
async function body(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (!text.trim()) return {};
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new HttpError(400, "the request body must be a JSON object");
}

function number(value: string | null, name: string, fallback?: number): number | undefined {
  if (value === null || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new HttpError(400, `${name} must be a number, not ${value}`);
  return n;
}

function task(ctx: ApiContext, id: string): TaskInfo {
  const found = ctx.monitor.state.tasks.get(id);
  if (!found) throw new HttpError(404, `Unknown task '${id}'`);
  return found;
}

function knownWorker(ctx: ApiContext, name: string): string {
  if (!ctx.monitor.state.workers.has(name)) throw new HttpError(404, `Unknown worker '${name}'`);
  return name;
}

function listTasks(ctx: ApiContext, request: Request): Record<string, unknown> {
  const q = query(request);
  const limit = number(q.get("limit"), "limit", 100)!;
  const offset = number(q.get("offset"), "offset", 0)!;
  const state = q.get("state");
  const name = q.get("taskname");
  const worker = q.get("workername");
  const search = q.get("search");
  const receivedStart = number(q.get("received_start"), "received_start");
  const receivedEnd = number(q.get("received_end"), "received_end");
  const out: Record<string, unknown> = {};
  let skipped = 0;
  let taken = 0;
  for (const info of ctx.monitor.state.tasksByTime()) {
    if (taken >= limit) break;
    if (state && info.state !== state) continue;
    if (name && info.name !== name) continue;
    if (worker && info.worker !== worker) continue;
    if (search && !info.uuid.includes(search) && !(info.name ?? "").includes(search)) continue;
    if (receivedStart !== undefined && (info.received ?? 0) < receivedStart) continue;
    if (receivedEnd !== undefined && (info.received ?? Infinity) > receivedEnd) continue;
    if (skipped++ < offset) continue;
    out[info.uuid] = taskView(info);
    taken++;
  }
  return out;
}

async function workersInfo(ctx: ApiContext, request: Request): Promise<unknown> {
  const q = query(request);
  const name = q.get("workername") || null;
  if (q.get("status") === "true") {
    return Object.fromEntries(
      ctx.monitor.workers().filter((w) => !name || w.hostname === name)
        .map((w) => [w.hostname, w.online]),
    );
  }
  const inspect = ctx.app.control.inspect({ destination: name, timeout: 1 });
  const [stats, queues, registered, scheduled, active, reserved, revoked, conf] = await Promise
    .all([
      inspect.stats(),
      inspect.activeQueues(),
      inspect.registered(),
      inspect.scheduled(),
      inspect.active(),
      inspect.reserved(),
      inspect.revoked(),
      inspect.conf(),
    ]);
  const out: Record<string, Record<string, unknown>> = {};
  const put = (key: string, replies: Record<string, unknown> | null) => {
    for (const [node, value] of Object.entries(replies ?? {})) {
      (out[node] ??= {})[key] = key === "conf" ? censorConfig(value) : value;
    }
  };
  put("stats", stats);
  put("active_queues", queues);
  put("registered", registered);
  put("scheduled", scheduled);
  put("active", active);
  put("reserved", reserved);
  put("revoked", revoked);
  put("conf", conf);
  for (const node of Object.keys(out)) out[node].timestamp = Date.now() / 1000;
  return out;
}

async function queueLengths(ctx: ApiContext): Promise<unknown> {
  const config = ctx.app.conf.resolve();
  const consumers = new Map<string, number>();
  for (const name of consumedQueues([], config).map((q) => q.name)) consumers.set(name, 0);
  for (const worker of ctx.monitor.workers()) {
    if (!worker.online) continue;
    for (const name of worker.queues) consumers.set(name, (consumers.get(name) ?? 0) + 1);
  }
  const broker = await ctx.app.getBroker();
  const rows = [];
  for (const [name, count] of [...consumers].sort()) {
    let messages: number | null = null;
    try {
      messages = await broker.messageCount(name);
    } catch {
      messages = null; // not declared yet
    }
    rows.push({ name, messages, consumers: count });
  }
  return { active_queues: rows };
}

function replyOf(replies: Record<string, unknown>[], node: string, what: string): unknown {
  const reply = replies.find((r) => node in r)?.[node] as Record<string, unknown> | undefined;
  if (!reply) throw new HttpError(504, `${node} did not answer ${what}`);
  if ("error" in reply) throw new HttpError(403, `${what} refused by ${node}: ${reply.error}`);
  return { message: reply.ok ?? reply };
}

const ROUTES: Route[] = [
  { method: "GET", pattern: /^\/api\/workers$/, handler: workersInfo },
  {
    method: "GET",
    pattern: /^\/api\/worker\/info\/(.+)$/,
    handler: async (ctx, _request, name) => {
      const inspect = ctx.app.control.inspect({ destination: name, timeout: 2 });
      const [registered, active, reserved, scheduled, conf, stats] = await Promise.all([
        inspect.registered(),
        inspect.active(true),
        inspect.reserved(),
        inspect.scheduled(),
        inspect.conf(),
        inspect.stats(),
      ]);
      return {
        worker: ctx.monitor.worker(name) ?? null,
        registered: registered?.[name] ?? null,
        active: active?.[name] ?? null,
        reserved: reserved?.[name] ?? null,
        scheduled: scheduled?.[name] ?? null,
        conf: conf?.[name] ? censorConfig(conf[name]) : null,
        stats: stats?.[name] ? censorConfig(stats[name]) : null,
      };
    },
  },
  { method: "GET", pattern: /^\/api\/tasks$/, handler: listTasks },
  {
    method: "GET",
    pattern: /^\/api\/task\/info\/([^/]+)$/,
    handler: (ctx, _request, id) => taskView(task(ctx, id), ctx.monitor.children(id)),
  },
  {
    method: "GET",
    pattern: /^\/api\/task\/graph\/([^/]+)$/,
    handler: (ctx, _request, id) => {
      const root = task(ctx, id).root_id ?? id;
      const family = [...ctx.monitor.state.tasks.values()].filter((t) =>
        t.uuid === root || t.root_id === root
      );
      return { root_id: root, tasks: family.slice(0, 500).map((t) => taskView(t)) };
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/task\/result\/([^/]+)$/,
    handler: async (ctx, request, id) => {
      const timeout = number(query(request).get("timeout"), "timeout");
      const result = ctx.app.asyncResult(id);
      if (timeout !== undefined) {
        await result.get({ timeout, propagate: false }).catch(() => {});
      }
      const meta = await result.meta();
      const state = meta?.status ?? "PENDING";
      const out: Record<string, unknown> = { "task-id": id, state };
      if (state === "FAILURE") {
        out.result = String((meta?.result as Record<string, unknown>)?.exc_message ?? meta?.result);
        out.traceback = meta?.traceback ?? null;
      } else if (meta) out.result = meta.result ?? null;
      return out;
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/task\/(?:async-apply|apply|send-task)\/([^/]+)$/,
    handler: async (ctx, request, name) => {
      const options = await body(request);
      const args = options.args ?? [];
      const kwargs = options.kwargs ?? {};
      if (!Array.isArray(args)) throw new HttpError(400, "args must be a JSON array");
      if (typeof kwargs !== "object" || kwargs === null || Array.isArray(kwargs)) {
        throw new HttpError(400, "kwargs must be a JSON object");
      }
      const countdown = options.countdown === undefined ? undefined : Number(options.countdown);
      const result = await ctx.app.sendTask(name, args, {
        kwargs: kwargs as Record<string, unknown>,
        countdown,
        eta: typeof options.eta === "string" ? options.eta : undefined,
        queue: typeof options.queue === "string" ? options.queue : undefined,
      });
      return { "task-id": result.id, state: "PENDING" };
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/task\/revoke\/([^/]+)$/,
    handler: async (ctx, request, id) => {
      const q = query(request);
      const terminate = q.get("terminate") === "true";
      await ctx.app.control.revoke(id, { terminate, signal: q.get("signal") ?? "SIGTERM" });
      return { message: `Revoked '${id}'` };
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/task\/resend\/([^/]+)$/,
    handler: async (ctx, _request, id) => {
      const info = task(ctx, id);
      if (!info.name) throw new HttpError(409, `task '${id}' has no known name to resend`);
      let args: unknown;
      let kwargs: unknown;
      try {
        args = parsePythonLiteral(info.args ?? "()");
        kwargs = parsePythonLiteral(info.kwargs ?? "{}");
      } catch (error) {
        throw new HttpError(409, `cannot resend '${id}': ${(error as Error).message}`);
      }
      const result = await ctx.app.sendTask(info.name, args as unknown[], {
        kwargs: kwargs as Record<string, unknown>,
      });
      return { "task-id": result.id, state: "PENDING" };
    },
  },
  {
    method: "POST",
    pattern: /^\/api\/task\/rate-limit\/([^/]+)$/,
    handler: async (ctx, request, node) => {
      const options = { ...Object.fromEntries(query(request)), ...await body(request) };
      const name = String(options.taskname ?? "");
      if (!name) throw new HttpError(400, "taskname is required");
      const limit = String(options.ratelimit ?? "");
      const replies = await ctx.app.control.rateLimit(name, limit || null, {
        destination: knownWorker(ctx, node),
        reply: true,
      });
      return replyOf(replies, node, "rate_limit");
    },
  },
  ...(["grow", "shrink"] as const).map((way): Route => ({
    method: "POST",
    pattern: new RegExp(`^/api/worker/pool/${way}/([^/]+)$`),
    handler: async (ctx, request, node) => {
      const n = number(query(request).get("n"), "n", 1)!;
      const options = { destination: knownWorker(ctx, node), reply: true };
      const replies = way === "grow"
        ? await ctx.app.control.poolGrow(n, options)
        : await ctx.app.control.poolShrink(n, options);
      const answer = replyOf(replies, node, `pool_${way}`);
      await ctx.monitor.refreshDetails(node);
      return answer;
    },
  })),
  {
    method: "POST",
    pattern: /^\/api\/worker\/shutdown\/([^/]+)$/,
    handler: async (ctx, _request, node) => {
      await ctx.app.control.shutdown({ destination: knownWorker(ctx, node) });
      return { message: `Shutting down ${node}` };
    },
  },
  { method: "GET", pattern: /^\/api\/queues\/length$/, handler: queueLengths },
  {
    method: "POST",
    pattern: /^\/api\/queue\/purge\/([^/]+)$/,
    handler: async (ctx, _request, name) => {
      const purged = await ctx.app.control.purge([name]);
      return { message: `Purged ${purged} messages from ${name}`, purged };
    },
  },
  { method: "GET", pattern: /^\/api\/charts$/, handler: (ctx) => ctx.monitor.charts.points() },
];

/** Answers an `/api/…` request, or null when no route matches its path. */
export async function handleApi(ctx: ApiContext, request: Request): Promise<Response | null> {
  const path = new URL(request.url).pathname;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (request.method !== route.method) {
      return Response.json({ error: `use ${route.method} for ${path}` }, { status: 405 });
    }
    try {
      const param = match[1] === undefined ? "" : decodeURIComponent(match[1]);
      return Response.json(await route.handler(ctx, request, param));
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      return Response.json({ error: (error as Error).message }, { status });
    }
  }
  return null;
}
