/**
 * `celeriac inspect <command>` and `celeriac control <command>`: Celery's
 * remote control commands with their positional arguments (as in
 * `celery/worker/control.py`), `--destination`, `--timeout` and `--json`,
 * printed as Celery prints them (`remote_output.ts`).
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { setupLogging } from "../log.ts";
import {
  COMMON_FLAGS,
  type FlagSpec,
  helpText,
  logLevelFlag,
  numberFlag,
  parseFlags,
} from "./args.ts";
import { EX_UNAVAILABLE, NO_REPLIES, nodesOnline, replyLines } from "./remote_output.ts";
import { UsageError } from "./usage_error.ts";

type ArgType = "str" | "float" | "int" | "bool";

/** A command's positional arguments, as Celery's `Panel.meta`. */
interface CommandArgs {
  /** Named arguments in order. */
  args?: [string, ArgType][];
  /** Name of the argument collecting the rest, as a list. */
  variadic?: string;
  /** One-line description. */
  help: string;
}

/** Inspect commands (read-only). */
export const INSPECT_COMMANDS: Readonly<Record<string, CommandArgs>> = {
  active: { args: [["safe", "bool"]], help: "tasks running now" },
  active_queues: { help: "queues each worker consumes" },
  clock: { help: "each worker's logical clock" },
  conf: { args: [["with_defaults", "bool"]], help: "each worker's settings (non-defaults)" },
  ping: { help: "ping the workers" },
  query_task: { variadic: "ids", help: "what the workers know of these task ids" },
  registered: { variadic: "taskinfoitems", help: "registered task names" },
  report: { help: "a bug-report text" },
  reserved: { help: "tasks prefetched, not yet running" },
  revoked: { help: "revoked task ids" },
  scheduled: { help: "tasks waiting for their ETA" },
  stats: { help: "statistics" },
};

/** Control commands (they change the workers). */
export const CONTROL_COMMAND_ARGS: Readonly<Record<string, CommandArgs>> = {
  add_consumer: {
    args: [["queue", "str"], ["exchange", "str"], ["exchange_type", "str"], ["routing_key", "str"]],
    help: "start consuming a queue: <queue> [exchange [type [routing_key]]]",
  },
  cancel_consumer: { args: [["queue", "str"]], help: "stop consuming a queue: <queue>" },
  disable_events: { help: "stop sending task events" },
  enable_events: { help: "send task events" },
  heartbeat: { help: "send a heartbeat event now" },
  pool_grow: { args: [["n", "int"]], help: "grow the pool: [n]" },
  pool_shrink: { args: [["n", "int"]], help: "shrink the pool: [n]" },
  rate_limit: {
    args: [["task_name", "str"], ["rate_limit", "str"]],
    help: "set a task's rate limit: <task name> <rate limit, as 10/m>",
  },
  revoke: { variadic: "task_id", help: "revoke tasks: <task id>..." },
  shutdown: { help: "shut the workers down" },
  terminate: {
    args: [["signal", "str"]],
    variadic: "task_id",
    help: "terminate running tasks: <signal> <task id>...",
  },
  time_limit: {
    args: [["task_name", "str"], ["soft", "float"], ["hard", "float"]],
    help: "set a task's time limits: <task name> <soft secs> [hard secs]",
  },
};

/** Flags of `inspect`, `control` and `status`. */
export const REMOTE_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  timeout: {
    type: "string",
    short: "t",
    help: "seconds to wait for replies (default 1)",
    value: "SECONDS",
  },
  destination: {
    type: "string",
    short: "d",
    help: "comma-separated node names (default all)",
    value: "NODES",
  },
  json: { type: "boolean", short: "j", help: "print the replies as JSON" },
};

function commandList(commands: Record<string, CommandArgs>): string {
  return Object.entries(commands).map(([name, spec]) => `  ${name.padEnd(16)} ${spec.help}`)
    .join("\n");
}

/** `celeriac inspect --help`. */
export const INSPECT_HELP = helpText(
  "celeriac inspect <command> [arguments] -A ./app.ts [options]",
  `Ask the workers (celeriac or Python Celery) about their state.\n\nCommands:\n${
    commandList(INSPECT_COMMANDS)
  }`,
  REMOTE_FLAGS,
);

/** `celeriac control --help`. */
export const CONTROL_HELP = helpText(
  "celeriac control <command> [arguments] -A ./app.ts [options]",
  `Change the workers at run time (celeriac or Python Celery).\n\nCommands:\n${
    commandList(CONTROL_COMMAND_ARGS)
  }`,
  REMOTE_FLAGS,
);

function convert(value: string, type: ArgType, name: string, command: string): unknown {
  if (type === "str") return value;
  if (type === "bool") return /^(1|true|yes|on|y|t)$/i.test(value);
  const number = Number(value);
  if (!Number.isFinite(number) || (type === "int" && !Number.isInteger(number))) {
    throw new UsageError(`invalid value for ${name}: ${JSON.stringify(value)}`, command);
  }
  return number;
}

/** Celery's `_compile_arguments`: positionals into the command's keyword arguments. */
export function compileArguments(
  spec: CommandArgs,
  values: string[],
  command: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rest = [...values];
  for (const [name, type] of spec.args ?? []) {
    if (rest.length === 0) break;
    out[name] = convert(rest.shift()!, type, name, command);
  }
  if (spec.variadic) out[spec.variadic] = rest;
  else if (rest.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`, command);
  }
  return out;
}

/** Parsed `--destination`, `--timeout`, `--json`. */
export interface RemoteFlags {
  /** Node names, or undefined for all. */
  destination?: string[];
  /** Seconds. */
  timeout: number;
  /** JSON output. */
  json: boolean;
}

/** Reads the remote control flags. */
export function remoteFlags(values: Record<string, unknown>, command: string): RemoteFlags {
  const destination = typeof values.destination === "string"
    ? values.destination.split(",").map((node) => node.trim()).filter(Boolean)
    : undefined;
  return {
    destination,
    timeout: numberFlag(values.timeout as string | undefined, "--timeout", command) ?? 1,
    json: values.json === true,
  };
}

/** Runs `celeriac inspect …` or `celeriac control …`; returns the exit code. */
export async function runRemoteCommand(
  app: Celery,
  args: string[],
  kind: "inspect" | "control",
): Promise<number> {
  const table = kind === "inspect" ? INSPECT_COMMANDS : CONTROL_COMMAND_ARGS;
  const help = kind === "inspect" ? INSPECT_HELP : CONTROL_HELP;
  const { values, positionals } = parseFlags(args, REMOTE_FLAGS, kind);
  if (values.help) {
    console.log(help);
    return 0;
  }
  const [action, ...rest] = positionals;
  if (!action || !(action in table)) {
    throw new UsageError(
      `${action ? `unknown command ${JSON.stringify(action)}` : "missing the command"} ` +
        `(choose from ${Object.keys(table).join(", ")})`,
      kind,
    );
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, kind) });
  const flags = remoteFlags(values, kind);
  const argumentsFor = compileArguments(table[action], rest, kind);
  try {
    const replies = await app.control.broadcast(action, {
      arguments: argumentsFor,
      destination: flags.destination,
      timeout: flags.timeout,
      reply: true,
      onReply: flags.json ? undefined : (reply) => console.log(replyLines(reply, true)),
    });
    if (replies.length === 0) {
      console.error(`Error: ${NO_REPLIES}`);
      return EX_UNAVAILABLE;
    }
    if (flags.json) {
      console.log(JSON.stringify(kind === "inspect" ? Object.assign({}, ...replies) : replies));
      return 0;
    }
    console.log(nodesOnline(replies.length));
    return 0;
  } finally {
    await app.close();
  }
}
