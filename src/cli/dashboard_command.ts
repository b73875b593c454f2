/**
 * `celeriac dashboard`: the monitoring dashboard (Flower's job) for the
 * app's broker, or for `--broker URL` with no app module. Serves on
 * 127.0.0.1:5555 unless `--address`/`--port` say otherwise; prints the URL;
 * runs until Ctrl+C.
 *
 * @module
 */

import { Celery } from "../app/celery.ts";
import { startDashboard } from "../dashboard/server.ts";
import { setupLogging } from "../log.ts";
import {
  COMMON_FLAGS,
  type FlagSpec,
  helpText,
  intFlag,
  logLevelFlag,
  parseFlags,
} from "./args.ts";
import { loadApp } from "./load_app.ts";
import { UsageError } from "./usage_error.ts";

/** The dashboard command's flags. */
export const DASHBOARD_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  broker: { type: "string", short: "b", help: "broker URL, when there is no app", value: "URL" },
  backend: { type: "string", help: "result backend URL, when there is no app", value: "URL" },
  port: { type: "string", short: "p", help: "port to serve on (default 5555)", value: "PORT" },
  address: { type: "string", help: "address to bind (default 127.0.0.1)", value: "ADDRESS" },
  "basic-auth": {
    type: "string",
    help: "user:password allowed in (repeat for several users)",
    value: "USER:PASS",
  },
  "auth-token": {
    type: "string",
    help: "token required as Authorization: Bearer (or ?token= once in a browser)",
    value: "TOKEN",
  },
  "max-tasks": { type: "string", help: "tasks kept in memory (default 10000)", value: "N" },
};

/** `celeriac dashboard --help`. */
export const DASHBOARD_HELP = helpText(
  "celeriac dashboard (-A ./app.ts | --broker URL) [--port 5555] [--address 127.0.0.1]",
  "Serve the monitoring dashboard: workers, tasks, queues, charts and actions, live.",
  DASHBOARD_FLAGS,
);

/** Takes every `--basic-auth X` / `--basic-auth=X` out of `args` (the flag repeats). */
function takeBasicAuth(args: string[]): { pairs: string[]; rest: string[] } {
  const pairs: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--basic-auth") pairs.push(args[++i] ?? "");
    else if (args[i].startsWith("--basic-auth=")) pairs.push(args[i].slice(13));
    else rest.push(args[i]);
  }
  for (const pair of pairs) {
    if (!/^[^:]+:.+$/.test(pair)) {
      throw new UsageError(
        `invalid --basic-auth ${JSON.stringify(pair)}: use user:password`,
        "dashboard",
      );
    }
  }
  return { pairs, rest };
}

/** Runs `celeriac dashboard` until Ctrl+C; returns the exit code. */
export async function runDashboardCommand(args: string[]): Promise<number> {
  const { pairs, rest } = takeBasicAuth(args);
  const { values, positionals } = parseFlags(rest, DASHBOARD_FLAGS, "dashboard");
  if (positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, "dashboard");
  }
  if (pairs.length && values["auth-token"]) {
    throw new UsageError("choose --basic-auth or --auth-token, not both", "dashboard");
  }
  const app = typeof values.app === "string"
    ? (await loadApp(values.app, "dashboard")).app
    : undefined;
  if (!app && typeof values.broker !== "string") {
    throw new UsageError(
      "name the app with -A ./app.ts, or the broker with --broker URL",
      "dashboard",
    );
  }
  const monitored = app ?? new Celery("dashboard", {
    broker: values.broker as string,
    backend: typeof values.backend === "string" ? values.backend : undefined,
    setAsCurrent: false,
  });
  if (app && typeof values.broker === "string") {
    monitored.conf.update({ broker_url: values.broker });
  }
  await setupLogging({ level: logLevelFlag(values.loglevel, "dashboard") });
  const dashboard = await startDashboard(monitored, {
    port: intFlag(values.port, "--port", "dashboard", 0) ?? 5555,
    address: typeof values.address === "string" ? values.address : "127.0.0.1",
    maxTasks: intFlag(values["max-tasks"], "--max-tasks", "dashboard", 1) ?? 10_000,
    basicAuth: pairs,
    authToken: typeof values["auth-token"] === "string" ? values["auth-token"] : undefined,
  });
  console.log(`celeriac dashboard for ${monitored.describeBroker()}\n  -> ${dashboard.url}`);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await stopped.promise;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await dashboard.close();
    await monitored.close();
  }
  return 0;
}
