/**
 * `celeriac status`: the workers that answer a ping (Celery's `celery
 * status`): `->  celery@host: OK` per node, then `N nodes online.`
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { setupLogging } from "../log.ts";
import { helpText, logLevelFlag, parseFlags } from "./args.ts";
import { REMOTE_FLAGS, remoteFlags } from "./remote_command.ts";
import { EX_UNAVAILABLE, NO_REPLIES, nodesOnline, replyLines } from "./remote_output.ts";
import { UsageError } from "./usage_error.ts";

/** `celeriac status --help`. */
export const STATUS_HELP = helpText(
  "celeriac status -A ./app.ts [options]",
  "Show the workers that are online (celeriac or Python Celery).",
  REMOTE_FLAGS,
);

/** Runs `celeriac status`; returns the exit code (69 when no node answered). */
export async function runStatusCommand(app: Celery, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, REMOTE_FLAGS, "status");
  if (values.help) {
    console.log(STATUS_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, "status");
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, "status") });
  const flags = remoteFlags(values, "status");
  try {
    const replies = await app.control.ping({
      destination: flags.destination,
      timeout: flags.timeout,
    });
    if (replies.length === 0) {
      console.error(`Error: ${NO_REPLIES}`);
      return EX_UNAVAILABLE;
    }
    if (flags.json) console.log(JSON.stringify(Object.assign({}, ...replies)));
    else for (const reply of replies) console.log(replyLines(reply, false));
    console.log(nodesOnline(replies.length));
    return 0;
  } finally {
    await app.close();
  }
}
