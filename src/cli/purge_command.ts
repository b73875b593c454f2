/**
 * `celeriac purge`: deletes every waiting message of the app's task queues
 * (Celery's `celery purge`), after asking; `-f` skips the question.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { consumedQueues } from "../app/routing.ts";
import { setupLogging } from "../log.ts";
import { COMMON_FLAGS, type FlagSpec, helpText, logLevelFlag, parseFlags } from "./args.ts";
import { UsageError } from "./usage_error.ts";

/** The purge command's flags. */
export const PURGE_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  force: { type: "boolean", short: "f", help: "do not ask for confirmation" },
  queues: {
    type: "string",
    short: "Q",
    help: "comma-separated queues to purge (default the app's queues)",
    value: "QUEUES",
  },
  "exclude-queues": {
    type: "string",
    short: "X",
    help: "comma-separated queues not to purge",
    value: "QUEUES",
  },
  json: { type: "boolean", short: "j", help: "print the counts as JSON" },
};

/** `celeriac purge --help`. */
export const PURGE_HELP = helpText(
  "celeriac purge -A ./app.ts [-f] [-Q queues] [-X queues]",
  "Erase all messages from all known task queues. There is no undo.",
  PURGE_FLAGS,
);

function list(value: unknown): string[] {
  return typeof value === "string" ? value.split(",").map((q) => q.trim()).filter(Boolean) : [];
}

/** Reads one line from stdin (null at its end). */
async function readLine(): Promise<string | null> {
  const buffer = new Uint8Array(1024);
  let text = "";
  while (!text.includes("\n")) {
    const count = await Deno.stdin.read(buffer);
    if (count === null) return text || null;
    text += new TextDecoder().decode(buffer.subarray(0, count));
  }
  return text.split("\n")[0];
}

/** Celery's confirmation question; true when the user typed y/yes. */
async function confirm(names: string[]): Promise<boolean> {
  const headline = names.length === 1 ? "queue" : "queues";
  const question = `WARNING: This will remove all tasks from ${headline}: ${names.join(", ")}.\n` +
    "         There is no undo for this operation!\n\n" +
    "(to skip this prompt use the -f option)\n" +
    "Are you sure you want to delete all tasks? [y/N]: ";
  await Deno.stdout.write(new TextEncoder().encode(question));
  const answer = await readLine();
  if (answer === null) console.log("");
  return /^y(es)?$/i.test(answer?.trim() ?? "");
}

/** Runs `celeriac purge`; returns the exit code (1 when the user says no). */
export async function runPurgeCommand(app: Celery, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, PURGE_FLAGS, "purge");
  if (values.help) {
    console.log(PURGE_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, "purge");
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, "purge") });
  const config = app.conf.resolve();
  const chosen = list(values.queues);
  const excluded = new Set(list(values["exclude-queues"]));
  const names = (chosen.length ? chosen : consumedQueues([], config).map((queue) => queue.name))
    .filter((name) => !excluded.has(name)).sort();
  try {
    if (names.length === 0) {
      console.log("No queues to purge.");
      return 0;
    }
    if (!values.force && !await confirm(names)) {
      console.error("Aborted!");
      return 1;
    }
    const counts: Record<string, number> = {};
    const broker = await app.getBroker();
    for (const name of names) counts[name] = await broker.purge(name);
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const headline = names.length === 1 ? "queue" : "queues";
    if (values.json) console.log(JSON.stringify({ purged: total, queues: counts }));
    else if (total) {
      console.log(
        `Purged ${total} ${
          total === 1 ? "message" : "messages"
        } from ${names.length} known task ${headline}.`,
      );
    } else console.log(`No messages purged from ${names.length} ${headline}.`);
    return 0;
  } finally {
    await app.close();
  }
}
