/**
 * The dashboard against real workers, shared by the RabbitMQ and Redis
 * tests: a celeriac worker process and a Python Celery 5.2.6 worker (both
 * with -E) appear; tasks sent through the Flower-compatible API show up and
 * change state; a failed task carries its traceback; a countdown task is
 * revoked; a failed task is sent again with the same arguments; auth, CSRF
 * and the CSP header hold; the worker page censors secrets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { type Dashboard, startDashboard } from "../../src/dashboard/server.ts";
import { startCeleriacWorker } from "../interop/celeriac_worker.ts";
import { type EventsControlSetup, eventually } from "../interop/events_control_scenarios.ts";
import { startPythonWorker } from "../interop/python/harness.ts";
import { uniqueName } from "../services.ts";

const AUTH = { authorization: `Basic ${btoa("ops:s3cret")}` };

/** A dashboard on a free port for `setup`'s cluster, with basic auth `ops:s3cret`. */
export async function dashboardFor(
  setup: EventsControlSetup,
): Promise<{ app: Celery; dashboard: Dashboard } & AsyncDisposable> {
  const app = new Celery("dash", {
    broker: setup.broker,
    backend: setup.backend,
    config: setup.config,
    setAsCurrent: false,
  });
  const dashboard = await startDashboard(app, { port: 0, basicAuth: ["ops:s3cret"] });
  return {
    app,
    dashboard,
    async [Symbol.asyncDispose]() {
      await dashboard.close();
      await app.close();
    },
  };
}

/** GET or POST JSON with the credentials; returns status and body. */
export async function call(
  dashboard: Dashboard,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL(path, dashboard.url), {
    ...init,
    headers: { ...AUTH, ...(init.headers ?? {}) },
  });
  return { status: response.status, body: await response.json() };
}

async function send(dashboard: Dashboard, name: string, body: unknown): Promise<string> {
  const { status, body: answer } = await call(dashboard, `/api/task/async-apply/${name}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  assert.equal(status, 200, JSON.stringify(answer));
  return answer["task-id"] as string;
}

async function taskIn(dashboard: Dashboard, id: string, state: string) {
  return await eventually(`task ${id} to be ${state} on the dashboard`, async () => {
    const { status, body } = await call(dashboard, `/api/task/info/${id}`);
    return status === 200 && body.state === state ? body : undefined;
  });
}

/** The whole tour with a celeriac worker process (and an idle queue `<task queue>-idle`). */
export async function celeriacWorkerTour(setup: EventsControlSetup): Promise<void> {
  await using dash = await dashboardFor(setup);
  const { dashboard } = dash;
  const node = `${uniqueName("dash")}@test`;
  await using _worker = await startCeleriacWorker({
    module: "tests/interop/worker_app.ts",
    env: {
      CELERY_BROKER_URL: setup.broker,
      CELERY_RESULT_BACKEND: setup.backend,
      CELERIAC_IT_CONFIG: JSON.stringify({ ...setup.config, beat_api_key: "hunter2" }),
    },
    hostname: node,
    pool: "async",
    args: ["-E"],
  });
  // The worker appears, online, with its pool and queues.
  let last: unknown;
  const seen = await eventually("the worker online with its pool", async () => {
    const { body } = await call(dashboard, "/api/workers?status=true");
    const worker = last = dashboard.monitor.worker(node);
    return body[node] === true && worker?.concurrency ? worker : undefined;
  }).catch((error) => {
    throw new Error(`${error.message}; last seen ${JSON.stringify(last)}`);
  });
  assert.equal(seen.queues.includes(setup.config.task_default_queue as string), true);

  // Tasks through the Flower API, then their states.
  const ok = await send(dashboard, "interop.add", { args: [2, 3] });
  const xss = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
  const failed = await send(dashboard, "interop.fail", { args: [xss] });
  const done = await taskIn(dashboard, ok, "SUCCESS");
  assert.equal(done.result, "5");
  assert.equal(done.worker, node);
  const failure = await taskIn(dashboard, failed, "FAILURE");
  assert.match(String(failure.traceback), /ValueError/);
  assert.equal(failure.args, `('${xss}',)`);
  const result = await eventually("the stored result", async () => {
    const { body } = await call(dashboard, `/api/task/result/${ok}`);
    return body.state === "SUCCESS" ? body : undefined;
  });
  assert.equal(result.result, 5);
  const listed = await call(dashboard, `/api/tasks?state=FAILURE&workername=${node}`);
  assert.deepEqual(Object.keys(listed.body), [failed]);

  // A task's family: children name their parent and root (as a canvas's members do).
  const kids = await Promise.all(
    [3, 4].map((n) => dash.app.sendTask("interop.add", [n, n], { parentId: ok, rootId: ok })),
  );
  for (const kid of kids) await taskIn(dashboard, kid.id, "SUCCESS");
  const parent = await call(dashboard, `/api/task/info/${ok}`);
  assert.deepEqual([...(parent.body.children as string[])].sort(), kids.map((k) => k.id).sort());
  const graph = await call(dashboard, `/api/task/graph/${kids[0].id}`);
  assert.equal(graph.body.root_id, ok);
  assert.equal((graph.body.tasks as unknown[]).length, 3);

  // Resend the failed task with the same arguments.
  const again = await call(dashboard, `/api/task/resend/${failed}`, { method: "POST" });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  const resent = await taskIn(dashboard, again.body["task-id"] as string, "FAILURE");
  assert.equal(resent.args, failure.args);

  // A countdown task revoked before it runs.
  // A worker discards a revoked ETA task (and says so) when its time comes, as Celery does.
  const slow = await send(dashboard, "interop.sleep", { args: [0.1], countdown: 4 });
  await taskIn(dashboard, slow, "RECEIVED");
  const revoked = await call(dashboard, `/api/task/revoke/${slow}`, { method: "POST" });
  assert.equal(revoked.status, 200);
  await taskIn(dashboard, slow, "REVOKED");

  // The worker page: registered tasks and censored config.
  const info = await call(dashboard, `/api/worker/info/${encodeURIComponent(node)}`);
  assert.ok((info.body.registered as string[]).some((name) => name.startsWith("interop.add")));
  const text = JSON.stringify(info.body.conf);
  assert.doesNotMatch(text, /hunter2|guest:guest@/);
  assert.equal((info.body.conf as Record<string, unknown>).beat_api_key, "********");

  // Pool grow from the API (a celeriac async pool answers).
  const grow = await call(dashboard, `/api/worker/pool/grow/${encodeURIComponent(node)}?n=1`, {
    method: "POST",
  });
  assert.equal(grow.status, 200, JSON.stringify(grow.body));

  // A rate limit set from the API reaches the worker.
  const limited = await call(dashboard, `/api/task/rate-limit/${encodeURIComponent(node)}`, {
    method: "POST",
    body: JSON.stringify({ taskname: "interop.add", ratelimit: "100/m" }),
  });
  assert.equal(limited.status, 200, JSON.stringify(limited.body));
  assert.match(String(limited.body.message), /rate limit/i);

  // Purge: messages waiting in a queue nobody consumes are deleted.
  const idle = `${setup.config.task_default_queue}-idle`;
  await dash.app.sendTask("interop.add", [1, 1], { queue: idle });
  await dash.app.sendTask("interop.add", [1, 2], { queue: idle });
  const purged = await call(dashboard, `/api/queue/purge/${idle}`, { method: "POST" });
  assert.equal(purged.body.purged, 2, JSON.stringify(purged.body));

  // Queues: the task queue with one consumer.
  const queues = await call(dashboard, "/api/queues/length");
  const row = (queues.body.active_queues as Record<string, unknown>[])
    .find((q) => q.name === setup.config.task_default_queue);
  assert.equal(row?.consumers, 1);
  assert.equal(typeof row?.messages, "number");

  // Shut the worker down: it goes offline on the dashboard.
  const shutdown = await call(dashboard, `/api/worker/shutdown/${encodeURIComponent(node)}`, {
    method: "POST",
  });
  assert.equal(shutdown.status, 200);
  await eventually("the worker offline", async () => {
    const { body } = await call(dashboard, "/api/workers?status=true");
    return body[node] === false ? true : undefined;
  });
}

/** Auth, CSRF and headers. */
export async function securityChecks(setup: EventsControlSetup): Promise<void> {
  await using dash = await dashboardFor(setup);
  const url = dash.dashboard.url;
  const anonymous = await fetch(url);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get("www-authenticate") ?? "", /Basic/);
  await anonymous.body?.cancel();
  const wrong = await fetch(url, { headers: { authorization: `Basic ${btoa("ops:nope")}` } });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const page = await fetch(url, { headers: AUTH });
  assert.equal(page.status, 200);
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  const html = await page.text();
  const token = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
  assert.ok(token);
  // A browser POST from another site, or without the token, is refused.
  const forged = await call(dash.dashboard, "/api/task/revoke/x", {
    method: "POST",
    headers: {
      origin: "http://evil.example",
      "sec-fetch-site": "cross-site",
      "x-csrf-token": token,
    },
  });
  assert.equal(forged.status, 403);
  const tokenless = await call(dash.dashboard, "/api/task/revoke/x", {
    method: "POST",
    headers: { origin: new URL(url).origin, "sec-fetch-site": "same-origin" },
  });
  assert.equal(tokenless.status, 403);
  const good = await call(dash.dashboard, "/api/task/revoke/x", {
    method: "POST",
    headers: {
      origin: new URL(url).origin,
      "sec-fetch-site": "same-origin",
      "x-csrf-token": token,
    },
  });
  assert.equal(good.status, 200);
  // A GET cannot change anything.
  const get = await call(dash.dashboard, "/api/task/revoke/x");
  assert.equal(get.status, 405);
}

/** A Python Celery 5.2.6 worker appears and its tasks show up. */
export async function pythonWorkerTour(setup: EventsControlSetup): Promise<void> {
  await using dash = await dashboardFor(setup);
  const { dashboard } = dash;
  const node = `${uniqueName("dash-py")}@${Deno.hostname()}`;
  await using _worker = await startPythonWorker({
    env: {
      broker: setup.broker,
      backend: setup.backend,
      queue: setup.config.task_default_queue as string,
      config: setup.config,
    },
    hostname: node,
    heartbeat: true,
    args: ["-E"],
  });
  await eventually("the Python worker online", async () => {
    const { body } = await call(dashboard, "/api/workers?status=true");
    return body[node] === true ? true : undefined;
  }, 30_000);
  const ok = await send(dashboard, "interop.add", { args: [20, 22] });
  const failed = await send(dashboard, "interop.fail", { args: ["<b>bad</b>"] });
  assert.equal((await taskIn(dashboard, ok, "SUCCESS")).result, "42");
  const failure = await taskIn(dashboard, failed, "FAILURE");
  assert.match(String(failure.traceback), /Traceback[\s\S]*ValueError/);
  const worker = await eventually("the Python worker's pool", () => {
    const view = dashboard.monitor.worker(node);
    return view?.concurrency ? view : undefined;
  });
  assert.equal(worker.software?.startsWith("py-celery"), true);
}
