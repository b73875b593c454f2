/**
 * `celeriac call <name>`: sends a task by name and prints its id
 * (Celery's `celery call`).
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { setupLogging } from "../log.ts";
import {
  COMMON_FLAGS,
  type FlagSpec,
  helpText,
  jsonFlag,
  logLevelFlag,
  numberFlag,
  parseFlags,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";
import { checkArguments } from "../task/arity.ts";

/** The call command's flags. */
export const CALL_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  args: { type: "string", short: "a", help: "positional arguments, a JSON array", value: "JSON" },
  kwargs: { type: "string", short: "k", help: "keyword arguments, a JSON object", value: "JSON" },
  countdown: { type: "string", help: "run no sooner than in N seconds", value: "SECONDS" },
  eta: { type: "string", help: "run no sooner than this ISO 8601 time", value: "TIME" },
  expires: { type: "string", help: "revoke unless started within N seconds", value: "SECONDS" },
  queue: { type: "string", help: "queue to send to", value: "QUEUE" },
  exchange: { type: "string", help: "exchange to send to", value: "EXCHANGE" },
  "routing-key": { type: "string", help: "routing key", value: "KEY" },
};

/** `celeriac call --help`. */
export const CALL_HELP = helpText(
  "celeriac call <task name> --app ./app.ts [--args JSON] [--kwargs JSON] [options]",
  "Send a task by name (its code need not be imported) and print its id.",
  CALL_FLAGS,
);

/**
 * The warning for a name the loaded app does not define: the task is still
 * sent (a worker with other code may know it), as Celery's `call` sends it.
 */
export function unknownTaskWarning(app: Celery, name: string): string {
  const last = name.split(".").pop()!;
  const similar = app.tasks.names().filter((known) => known.split(".").pop() === last);
  const hint = similar.length > 0
    ? ` (did you mean ${similar.map((n) => `"${n}"`).join(", ")}?)`
    : "";
  return `celeriac: warning: the app ${app.main} has no task named ${JSON.stringify(name)}` +
    `${hint}; sending it anyway, for a worker that knows it.`;
}

/** Sends the task; prints its id; returns the exit code. */
export async function runCallCommand(app: Celery, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, CALL_FLAGS, "call");
  if (values.help) {
    console.log(CALL_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "missing the task name, as in: celeriac call proj.add --app ./app.ts --args '[2, 2]'"
        : `unexpected argument ${JSON.stringify(positionals[1])}`,
      "call",
    );
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, "call") });
  const eta = typeof values.eta === "string" ? new Date(values.eta) : undefined;
  if (eta && Number.isNaN(eta.getTime())) {
    throw new UsageError(
      `invalid value for --eta: ${JSON.stringify(values.eta)} is not a date`,
      "call",
    );
  }
  const name = positionals[0];
  const taskArgs = jsonFlag<unknown[]>(values.args, "--args", "call", "array") ?? [];
  const kwargs = jsonFlag<Record<string, unknown>>(values.kwargs, "--kwargs", "call", "object");
  const countdown = numberFlag(values.countdown, "--countdown", "call");
  const expires = numberFlag(values.expires, "--expires", "call");
  const task = app.tasks.get(name);
  if (task) checkArguments(task, taskArgs, kwargs ?? {});
  else console.error(unknownTaskWarning(app, name));
  try {
    const result = await app.sendTask(
      name,
      taskArgs,
      {
        kwargs,
        countdown,
        eta,
        expires,
        queue: values.queue as string | undefined,
        exchange: values.exchange as string | undefined,
        routingKey: values["routing-key"] as string | undefined,
      },
    );
    console.log(result.id);
  } finally {
    await app.close();
  }
  return 0;
}
