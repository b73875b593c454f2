/**
 * The web example's app and task. The web server imports it to send tasks;
 * a worker imports it to run them:
 *
 * ```sh
 * deno run -A cli.ts worker --app ./examples/web/tasks.ts
 * ```
 *
 * @module
 */

import { Celery } from "../../mod.ts";

/** The app, on its own queue. Broker and backend: the embedded default unless configured. */
export const app = new Celery("web", { config: { task_default_queue: "examples.web" } });

/** Counts the words of a text, slowly enough to see PENDING in the page. */
export const countWords = app.task(async function count_words(text: string) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return text.split(/\s+/).filter(Boolean).length;
});
