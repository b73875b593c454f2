/**
 * Runs a client script beside the README's Quick start worker: the Quick
 * start's `tasks.ts` and worker command line, read from README.md, on a
 * private place of `choice`, and the client run as a user would (`deno run
 * -A client.ts`). The caller asserts on the client's run.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type BrokerChoice,
  placeFor,
  runTimed,
  startBackground,
  type TimedRun,
} from "./readme_places.ts";
import { commandLine, readmeBlock, scratchProject, shellWords } from "./readme_snippets.ts";

/** The client's run, or undefined when the service does not answer (outside CI). */
export async function runBesideQuickStartWorker(
  choice: BrokerChoice,
  client: string,
): Promise<TimedRun | undefined> {
  const tasks = readmeBlock("// tasks.ts\nimport { Celery }");
  const workerLine = commandLine(readmeBlock("cli worker --app ./tasks.ts"), "worker");
  const dir = await scratchProject({ "tasks.ts": tasks.text, "client.ts": client });
  try {
    const place = await placeFor(choice, dir);
    if (!place) return undefined;
    try {
      const worker = startBackground(shellWords(workerLine), dir, place.env);
      try {
        await worker.waitFor(/ ready\.$/m);
        return await runTimed(["deno", "run", "-A", "client.ts"], dir, place.env, 30_000);
      } finally {
        const stopped = await worker.stop();
        assert.equal(stopped.code, 0, stopped.stderr);
      }
    } finally {
      await place.cleanUp();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
