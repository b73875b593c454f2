/**
 * `celeriac beat`: the periodic task scheduler as its own process, until
 * SIGINT/SIGTERM.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { leaseKindFor } from "../beat/leader_lease.ts";
import { beatBanner } from "../beat/banner.ts";
import { entriesFromConfig } from "../beat/entry.ts";
import { runBeat } from "../beat/service.ts";
import { setupLogging } from "../log.ts";
import { VERSION } from "../version.ts";
import {
  COMMON_FLAGS,
  type FlagSpec,
  helpText,
  logLevelFlag,
  numberFlag,
  parseFlags,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";

/** Beat's flags. */
export const BEAT_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  schedule: {
    type: "string",
    short: "s",
    help: "schedule file (default celerybeat-schedule.json)",
    value: "FILE",
  },
  "max-interval": {
    type: "string",
    help: "longest sleep between checks, seconds",
    value: "SECONDS",
  },
};

/** `celeriac beat --help`. */
export const BEAT_HELP = helpText(
  "celeriac beat --app ./app.ts[:export] [options]",
  "Start beat: send the app's periodic tasks (beat_schedule) when they are due.\n" +
    "Run it on every replica if you like: a leader lease in the broker makes one of them send.",
  BEAT_FLAGS,
);

/** Parses beat's flags. */
export function beatOptionsFromArgs(args: string[]) {
  const { values, positionals } = parseFlags(args, BEAT_FLAGS, "beat");
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, "beat");
  }
  return {
    app: values.app as string | undefined,
    help: values.help === true,
    logLevel: logLevelFlag(values.loglevel, "beat"),
    scheduleFile: values.schedule as string | undefined,
    maxInterval: numberFlag(values["max-interval"], "--max-interval", "beat"),
  };
}

/** Runs beat for `app` until SIGINT/SIGTERM; returns the exit code. */
export async function runBeatCommand(app: Celery, args: string[]): Promise<number> {
  const options = beatOptionsFromArgs(args);
  if (options.help) {
    console.log(BEAT_HELP);
    return 0;
  }
  await setupLogging({ level: options.logLevel, processName: "MainProcess" });
  const config = app.finalize().conf.resolve();
  entriesFromConfig(config.beat_schedule, new Date()); // a bad entry fails before the banner
  const scheduleFile = options.scheduleFile ?? config.beat_schedule_filename;
  console.log(beatBanner({
    version: VERSION,
    brokerUrl: app.brokerUrl(),
    scheduleFile,
    logLevel: options.logLevel,
    maxInterval: options.maxInterval ?? config.beat_max_loop_interval ?? 300,
    lease: leaseKindFor(app.brokerUrl()) ?? "local",
  }));
  const stop = new AbortController();
  const onSignal = () => {
    console.error("\nbeat: Warm shutdown (MainProcess)");
    stop.abort();
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    await runBeat(app, { signal: stop.signal, scheduleFile, maxInterval: options.maxInterval });
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    await app.close();
  }
  return 0;
}
