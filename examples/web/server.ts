/**
 * Celery's Django integration, done the Deno way: a `Deno.serve` handler
 * enqueues a task and redirects to a page that shows its state.
 *
 * ```sh
 * deno run -A cli.ts worker --app ./examples/web/tasks.ts   # terminal 1: the worker
 * deno run -A examples/web/server.ts                     # terminal 2: http://localhost:8000/
 * deno run -A examples/web/server.ts --worker            # or both in one process
 * ```
 *
 * `POST /tasks` (form field or JSON `text`) sends `web.count_words` and answers
 * 303 See Other to `/tasks/<id>`; that page shows the state (JSON with
 * `Accept: application/json`). `PORT` picks the port (0: any free port).
 *
 * @module
 */

import { app, countWords } from "./tasks.ts";
import { formPage, taskPage } from "./pages.ts";

async function readText(request: Request): Promise<string | undefined> {
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/json")) {
    const body = await request.json().catch(() => undefined);
    return typeof body?.text === "string" ? body.text : undefined;
  }
  const value = (await request.formData().catch(() => undefined))?.get("text");
  return typeof value === "string" ? value : undefined;
}

async function showTask(id: string, request: Request): Promise<Response> {
  const result = app.asyncResult(id, countWords.name);
  const state = await result.state();
  const ready = await result.ready();
  const value = ready ? await result.get({ propagate: false }) : null;
  const shown = value instanceof Error ? `${value.name}: ${value.message}` : value;
  if ((request.headers.get("accept") ?? "").includes("application/json")) {
    return Response.json({ id, state, result: shown });
  }
  return taskPage(id, state, shown, ready);
}

/** The request handler: the form, sending a task, and each task's page. */
export async function handler(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method === "GET" && pathname === "/") return formPage();
  if (request.method === "POST" && pathname === "/tasks") {
    const text = await readText(request);
    if (text === undefined) return new Response("Send a text field.\n", { status: 400 });
    const result = await countWords.delay(text);
    return new Response(null, { status: 303, headers: { location: `/tasks/${result.id}` } });
  }
  const match = /^\/tasks\/([\w-]+)$/.exec(pathname);
  if (request.method === "GET" && match) return await showTask(match[1], request);
  return new Response("Not found.\n", { status: 404 });
}

if (import.meta.main) {
  const worker = Deno.args.includes("--worker")
    ? await app.worker({ concurrency: 1, banner: false })
    : undefined;
  const server = Deno.serve({
    port: Number(Deno.env.get("PORT") ?? 8000),
    onListen: ({ hostname, port }) => console.log(`Listening on http://${hostname}:${port}/`),
  }, handler);
  const stop = async () => {
    await server.shutdown();
    await worker?.stop();
    await app.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
}
