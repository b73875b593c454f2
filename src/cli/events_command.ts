/**
 * `celeriac events`: a live view of the workers and tasks of the app's
 * broker, redrawn in place every second (Celery's `celery events`, built on
 * `State`); `--dump` prints one event per line as Celery's `celery events
 * --dump`; `--json` one JSON event per line. Ctrl+C stops it.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import type { CeleryEvent } from "../events/event_types.ts";
import { State } from "../events/state.ts";
import { setupLogging } from "../log.ts";
import { pythonRepr } from "../protocol/python_repr.ts";
import {
  COMMON_FLAGS,
  type FlagSpec,
  helpText,
  intFlag,
  logLevelFlag,
  parseFlags,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";
import { renderView } from "./events_view.ts";

/** The events command's flags. */
export const EVENTS_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  dump: { type: "boolean", short: "d", help: "print one event per line (celery events --dump)" },
  json: { type: "boolean", short: "j", help: "print one event per line, as JSON" },
  "max-tasks": {
    type: "string",
    help: "tasks kept in memory by the live view (default 10000)",
    value: "N",
  },
};

/** `celeriac events --help`. */
export const EVENTS_HELP = helpText(
  "celeriac events -A ./app.ts [--dump | --json]",
  "Watch the workers and tasks live (celeriac and Python Celery workers send events with -E).",
  EVENTS_FLAGS,
);

const HUMAN_TYPES: Record<string, string> = {
  "worker-offline": "shutdown",
  "worker-online": "started",
  "worker-heartbeat": "heartbeat",
};

const taskNames = new Map<string, string>();

function show(value: unknown): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

function pythonTime(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString().replace("T", " ").replace("Z", "");
  return iso.includes(".") ? `${iso}000` : iso;
}

/** One event as Celery's `Dumper` prints it. */
export function dumpLine(event: CeleryEvent): string {
  const { timestamp, type, hostname, local_received: _, ...rest } = event;
  const fields = rest as Record<string, unknown>;
  const human = HUMAN_TYPES[type] ?? type.toLowerCase().replaceAll("-", " ");
  let task = "";
  if (type.startsWith("task-")) {
    const uuid = String(fields.uuid);
    delete fields.uuid;
    if (type === "task-received" || type === "task-sent") {
      task = `${fields.name}(${uuid}) args=${fields.args} kwargs=${fields.kwargs}`;
      taskNames.set(uuid, task);
      if (taskNames.size > 4095) taskNames.delete(taskNames.keys().next().value!);
      for (const key of ["name", "args", "kwargs"]) delete fields[key];
    } else task = taskNames.get(uuid) ?? "";
  }
  const text = Object.keys(fields).sort().map((key) => `${key}=${show(fields[key])}`).join(", ");
  const sep = text ? ":" : "";
  const head = `${hostname} [${pythonTime(timestamp)}] ${human}${sep}`;
  return task ? `${head} ${task} ${text}` : `${head} ${text}`;
}

/** Runs `celeriac events` until Ctrl+C; returns the exit code. */
export async function runEventsCommand(app: Celery, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, EVENTS_FLAGS, "events");
  if (values.help) {
    console.log(EVENTS_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, "events");
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, "events") });
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const live = !values.dump && !values.json;
  const state = new State({ maxTasks: intFlag(values["max-tasks"], "--max-tasks", "events", 1) });
  const stream = app.events({ signal: stop.signal });
  let redraw: ReturnType<typeof setInterval> | undefined;
  if (values.dump) console.log("-> evdump: starting capture...");
  if (live) {
    const draw = () => Deno.stdout.writeSync(new TextEncoder().encode(renderView(state, app)));
    draw();
    redraw = setInterval(draw, 1000);
  }
  try {
    for await (const event of stream) {
      if (values.json) console.log(JSON.stringify(event));
      else if (values.dump) console.log(dumpLine(event));
      else state.event(event);
    }
  } finally {
    clearInterval(redraw);
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await app.close();
  }
  return 0;
}
