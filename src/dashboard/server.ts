/**
 * The dashboard's HTTP server on `Deno.serve`: the page, its modules, the
 * live stream (`/stream`, Server-Sent Events: one snapshot, then batches)
 * and the API. Every response carries the security headers; every request
 * passes the auth check; every POST passes the CSRF check.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { getLogger } from "../log.ts";
import { handleApi } from "./api.ts";
import { pageHtml, UI_ASSETS } from "./assets.ts";
import { Monitor } from "./monitor.ts";
import {
  type AuthOptions,
  checkAuth,
  checkCsrf,
  SECURITY_HEADERS,
  TOKEN_COOKIE,
} from "./security.ts";
import { taskView } from "./task_view.ts";

const log = getLogger("dashboard");

/** Options of `startDashboard`. */
export interface DashboardOptions extends AuthOptions {
  /** Port (default 5555; 0 picks a free one). */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  address?: string;
  /** Tasks kept in memory (default 10 000). */
  maxTasks?: number;
}

/** A running dashboard. */
export interface Dashboard {
  /** Its URL. */
  url: string;
  /** The live state. */
  monitor: Monitor;
  /** Stops serving and listening to events. */
  close(): Promise<void>;
}

/** Tasks in the first message of a stream. */
const SNAPSHOT_TASKS = 100;

function withHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (!response.headers.has(name)) response.headers.set(name, value);
  }
  return response;
}

function stream(monitor: Monitor, open: Set<() => void>): Response {
  const encoder = new TextEncoder();
  let unsubscribe = () => {};
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  let cancel = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: string, data: unknown) => {
        try {
          controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        } catch {
          unsubscribe();
        }
      };
      send("snapshot", {
        workers: monitor.workers(),
        tasks: monitor.state.tasksByTime(SNAPSHOT_TASKS).map((task) => taskView(task)),
        events: monitor.state.eventCount,
      });
      unsubscribe = monitor.subscribe((batch) => send("batch", batch));
      keepAlive = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(": keep-alive\n\n"));
        } catch {
          clearInterval(keepAlive);
        }
      }, 15_000);
      const end = () => {
        unsubscribe();
        clearInterval(keepAlive);
        open.delete(end);
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      open.add(end);
      cancel = end;
    },
    cancel() {
      // The browser went away (closing the tab, or reconnecting).
      cancel();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
  });
}

/** Starts the dashboard for `app`; resolves once it listens. */
export async function startDashboard(
  app: Celery,
  options: DashboardOptions = {},
): Promise<Dashboard> {
  const monitor = new Monitor(app, options.maxTasks ?? 10_000);
  monitor.start();
  const csrfToken = crypto.randomUUID();
  const ctx = { app, monitor };
  const openStreams = new Set<() => void>();
  const handle = async (request: Request): Promise<Response> => {
    const refused = checkAuth(request, options);
    if (refused) return refused;
    const url = new URL(request.url);
    const path = url.pathname;
    if (request.method === "POST") {
      const forged = checkCsrf(request, csrfToken);
      if (forged) return forged;
    }
    if (path.startsWith("/api/")) {
      return await handleApi(ctx, request) ??
        Response.json({ error: `no such API: ${path}` }, { status: 404 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405 });
    }
    if (path === "/stream") return stream(monitor, openStreams);
    if (path.startsWith("/ui/")) {
      const asset = UI_ASSETS[path.slice(4)];
      if (!asset) return new Response("not found\n", { status: 404 });
      return new Response(asset.body, {
        headers: { "content-type": asset.type, "cache-control": "no-cache" },
      });
    }
    if (path === "/" || path === "/index.html") {
      const headers: Record<string, string> = {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
      };
      const token = url.searchParams.get("token");
      if (options.authToken && token) {
        headers["set-cookie"] = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; ` +
          "SameSite=Strict; Path=/";
      }
      return new Response(pageHtml(csrfToken), { headers });
    }
    return new Response("not found\n", { status: 404 });
  };
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    port: options.port ?? 5555,
    hostname: options.address ?? "127.0.0.1",
    onListen: (addr) => ready.resolve(addr as Deno.NetAddr),
    onError: (error) => {
      log.error(`dashboard request failed: ${(error as Error).message}`);
      return new Response("internal error\n", { status: 500 });
    },
  }, async (request) => withHeaders(await handle(request)));
  const addr = await ready.promise;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}/`,
    monitor,
    async close() {
      for (const end of [...openStreams]) end();
      await server.shutdown();
      await monitor.stop();
    },
  };
}
