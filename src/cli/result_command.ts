/**
 * `celeriac result <id>`: prints a task's state and, once ready, its result
 * or error (Celery's `celery result`).
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { stringifyJson } from "../protocol/json_content.ts";
import { isEncodedException, RemoteError } from "../protocol/exceptions.ts";
import { setupLogging } from "../log.ts";
import {
  COMMON_FLAGS,
  type FlagSpec,
  helpText,
  logLevelFlag,
  numberFlag,
  parseFlags,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";

/** The result command's flags. */
export const RESULT_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  traceback: { type: "boolean", short: "t", help: "print the traceback of a failure" },
  wait: {
    type: "string",
    short: "w",
    help: "wait up to N seconds for the result; exit 1 if it is still PENDING",
    value: "SECONDS",
  },
};

/** `celeriac result --help`. */
export const RESULT_HELP = helpText(
  "celeriac result <task id> --app ./app.ts [--wait SECONDS] [--traceback]",
  "Print a task's state, then its result (or its error) once it is ready.",
  RESULT_FLAGS,
);

/** What `result` says when the backend is rpc://: it cannot see other clients' results. */
export const RPC_NOTE = "celeriac: note: the result backend is rpc://, which sends each result " +
  "only to the client that sent the task (as in Celery), so this command cannot see it: " +
  "waiting would not help. Use a result backend that stores results (redis://, sqlite://) " +
  "to read them by id.";

/** True for `rpc://` and its legacy alias `amqp://` (also given bare, as `rpc`). */
function isRpcBackend(url: string | null): boolean {
  return url !== null && /^(rpc|amqp)(:|$)/i.test(url);
}

/**
 * Prints the state and result; exit code 0, or 1 when the task failed, or
 * when `--wait` ran out with the task still PENDING (at once for rpc://).
 */
export async function runResultCommand(app: Celery, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, RESULT_FLAGS, "result");
  if (values.help) {
    console.log(RESULT_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "missing the task id, as in: celeriac result 3759673f-ae61-4ea1-beba-90a101b18b51 --app ./app.ts"
        : `unexpected argument ${JSON.stringify(positionals[1])}`,
      "result",
    );
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, "result") });
  const wait = numberFlag(values.wait, "--wait", "result");
  const rpc = isRpcBackend(app.backendUrl());
  try {
    const result = app.asyncResult(positionals[0]);
    if (wait !== undefined && !rpc) {
      await result.get({ timeout: wait, propagate: false }).catch(() => {});
    }
    const state = await result.state();
    console.log(state);
    if (state === "PENDING" && rpc) {
      console.error(RPC_NOTE);
      return wait === undefined ? 0 : 1;
    }
    if (state === "PENDING" && wait !== undefined) {
      console.error(
        `celeriac: error: the task is still PENDING after waiting ${wait} seconds ` +
          `(unknown ids are PENDING too)`,
      );
      return 1;
    }
    if (state === "FAILURE" || state === "RETRY" || state === "REVOKED") {
      const meta = await result.meta();
      const error = isEncodedException(meta?.result)
        ? new RemoteError(meta.result, meta.traceback)
        : undefined;
      console.log(
        error ? `${error.excType}: ${error.message}` : stringifyJson(meta?.result ?? null),
      );
      if (values.traceback && meta?.traceback) console.log(meta.traceback.trimEnd());
      return state === "FAILURE" ? 1 : 0;
    }
    if (state === "SUCCESS") console.log(stringifyJson(await result.get({ timeout: 1 })));
  } finally {
    await app.close();
  }
  return 0;
}
