/**
 * First steps with celeriac, as in Celery's "First steps with Celery":
 * an app, a task, a worker, a call.
 *
 * ```sh
 * deno task worker                       # terminal 1: a worker for this app
 * deno run -A examples/first_steps/client.ts   # terminal 2: send add(4, 4) and print 8
 * ```
 *
 * With nothing configured, the app uses the embedded default broker and
 * result backend (a SQLite file; the worker's banner says where).
 *
 * @module
 */

import { Celery } from "../../mod.ts";

/** The app. Broker and backend come from CELERY_BROKER_URL / CELERY_RESULT_BACKEND when set. */
export const app = new Celery("tasks");

/** Adds two numbers. */
export const add = app.task(function add(x: number, y: number) {
  return x + y;
});
