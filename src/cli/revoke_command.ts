/**
 * `celeriac revoke <id>…`: revokes tasks on every worker (Celery's `celery
 * control revoke`, with `--terminate` and `--signal` as `AsyncResult.revoke`).
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { setupLogging } from "../log.ts";
import { helpText, logLevelFlag, parseFlags } from "./args.ts";
import { REMOTE_FLAGS, remoteFlags } from "./remote_command.ts";
import { EX_UNAVAILABLE, NO_REPLIES, nodesOnline, replyLines } from "./remote_output.ts";
import { UsageError } from "./usage_error.ts";

const REVOKE_FLAGS = {
  ...REMOTE_FLAGS,
  terminate: { type: "boolean" as const, help: "also stop the tasks if they are running" },
  signal: {
    type: "string" as const,
    short: "s",
    help: "signal used with --terminate (default SIGTERM)",
    value: "SIGNAL",
  },
};

/** `celeriac revoke --help`. */
export const REVOKE_HELP = helpText(
  "celeriac revoke <task id>... -A ./app.ts [--terminate [--signal SIGKILL]] [options]",
  "Revoke tasks: every worker that hears it discards them (celeriac or Python Celery).",
  REVOKE_FLAGS,
);

/** Runs `celeriac revoke`; returns the exit code (69 when no worker answered). */
export async function runRevokeCommand(app: Celery, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, REVOKE_FLAGS, "revoke");
  if (values.help) {
    console.log(REVOKE_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("missing the task id, as in: celeriac revoke <id> -A ./app.ts", "revoke");
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, "revoke") });
  const flags = remoteFlags(values, "revoke");
  try {
    const replies = await app.control.revoke(positionals, {
      terminate: values.terminate === true,
      signal: typeof values.signal === "string" ? values.signal : "SIGTERM",
      destination: flags.destination,
      timeout: flags.timeout,
      reply: true,
    });
    if (replies.length === 0) {
      console.error(`Error: ${NO_REPLIES}`);
      return EX_UNAVAILABLE;
    }
    if (flags.json) console.log(JSON.stringify(replies));
    else {
      for (const reply of replies) console.log(replyLines(reply, true));
      console.log(nodesOnline(replies.length));
    }
    return 0;
  } finally {
    await app.close();
  }
}
