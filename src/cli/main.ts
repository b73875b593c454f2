/**
 * The `celeriac` command line: picks the command, loads the app, runs it,
 * and turns user mistakes into one line on stderr and a non-zero exit code.
 *
 * @module
 */

import { censorText, censorValue } from "../app/mask_url.ts";
import { CeleriacError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { BEAT_HELP, runBeatCommand } from "./beat_command.ts";
import { CALL_HELP, runCallCommand } from "./call_command.ts";
import { loadApp } from "./load_app.ts";
import {
  connectionNeeds,
  LOADING_NOTE,
  loadingNeeds,
  MissingPermissionsError,
  requirePermissions,
  scheduleNeeds,
} from "./permissions.ts";
import { RESULT_HELP, runResultCommand } from "./result_command.ts";
import { UsageError } from "./usage_error.ts";
import { runWorkerCommand, WORKER_HELP } from "./worker_command.ts";
import { CONTROL_HELP, INSPECT_HELP, runRemoteCommand } from "./remote_command.ts";
import { runStatusCommand, STATUS_HELP } from "./status_command.ts";
import { PURGE_HELP, runPurgeCommand } from "./purge_command.ts";
import { EVENTS_HELP, runEventsCommand } from "./events_command.ts";
import { REVOKE_HELP, runRevokeCommand } from "./revoke_command.ts";
import { DASHBOARD_HELP, runDashboardCommand } from "./dashboard_command.ts";

/** `celeriac --help`. */
export const MAIN_HELP = `Usage: celeriac <command> --app ./app.ts[:export] [options]

celeriac ${VERSION}: Celery, the distributed task queue, for Deno.

Commands:
  worker    start a worker that runs the app's tasks
  beat      start beat, the periodic task scheduler
  call      send a task by name and print its id
  result    print a task's state and result by id
  inspect   ask the workers what they run, hold, know (ping, active, stats, …)
  control   change the workers at run time (revoke, rate_limit, shutdown, …)
  status    list the workers that are online
  purge     delete every waiting message of the app's queues
  events    watch workers and tasks live (--dump: one event per line)
  revoke    revoke tasks by id
  dashboard serve the monitoring dashboard (workers, tasks, queues, charts)

Run 'celeriac <command> --help' for a command's options.
`;

const HELP: Record<string, string> = {
  worker: WORKER_HELP,
  beat: BEAT_HELP,
  call: CALL_HELP,
  result: RESULT_HELP,
  inspect: INSPECT_HELP,
  control: CONTROL_HELP,
  status: STATUS_HELP,
  purge: PURGE_HELP,
  events: EVENTS_HELP,
  revoke: REVOKE_HELP,
  dashboard: DASHBOARD_HELP,
};

/** Finds `-A x` / `--app x` / `--app=x` anywhere in the arguments. */
function appFlag(args: string[]): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "-A" || arg === "--app") return args[index + 1];
    if (arg.startsWith("--app=")) return arg.slice(6);
    if (arg.startsWith("-A") && arg.length > 2) return arg.slice(2);
  }
  return undefined;
}

/**
 * Moves a leading `--app x` / `-A x` / `--app=x` after the command, so
 * `celeriac --app app worker` works as in Celery.
 */
export function commandFirst(args: string[]): string[] {
  if ((args[0] === "-A" || args[0] === "--app") && args.length >= 3) {
    return [args[2], args[0], args[1], ...args.slice(3)];
  }
  if (args[0]?.startsWith("--app=") && args.length >= 2) {
    return [args[1], args[0], ...args.slice(2)];
  }
  return args;
}

async function dispatch(argv: string[]): Promise<number> {
  const args = commandFirst(argv);
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    const topic = command === "help" ? rest[0] : undefined;
    console.log(topic && HELP[topic] ? HELP[topic] : MAIN_HELP);
    return 0;
  }
  if (command === "--version" || command === "-V") {
    console.log(VERSION);
    return 0;
  }
  if (!(command in HELP)) {
    throw new UsageError(
      `unknown command ${JSON.stringify(command)} (choose from ${Object.keys(HELP).join(", ")})`,
    );
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(HELP[command]);
    return 0;
  }
  requirePermissions(command, loadingNeeds(command, appFlag(rest)), LOADING_NOTE);
  if (command === "dashboard") return await runDashboardCommand(rest);
  const { app, location } = await loadApp(appFlag(rest), command);
  requirePermissions(command, [...connectionNeeds(app), ...scheduleNeeds(command, rest, app)]);
  switch (command) {
    case "worker":
      return await runWorkerCommand(app, rest, location);
    case "beat":
      return await runBeatCommand(app, rest);
    case "call":
      return await runCallCommand(app, rest);
    case "inspect":
    case "control":
      return await runRemoteCommand(app, rest, command);
    case "status":
      return await runStatusCommand(app, rest);
    case "purge":
      return await runPurgeCommand(app, rest);
    case "events":
      return await runEventsCommand(app, rest);
    case "revoke":
      return await runRevokeCommand(app, rest);
    default:
      return await runResultCommand(app, rest);
  }
}

function debugging(): boolean {
  try {
    return Boolean(Deno.env.get("CELERIAC_DEBUG"));
  } catch {
    return false; // no --allow-env
  }
}

/** One line: newlines in a message become spaces. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/**
 * Runs the command line; returns the exit code (2 for usage errors, 1 for
 * other errors). An error is one line on stderr, `celeriac: error: …`, never
 * a stack trace (set CELERIAC_DEBUG=1 to see it).
 */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (error) {
    if (error instanceof MissingPermissionsError) {
      console.error(`celeriac: error: ${error.message}`);
      return 1;
    }
    if (error instanceof UsageError) {
      const help = `celeriac ${error.command ? `${error.command} ` : ""}--help`;
      console.error(`celeriac: error: ${oneLine(error.message)} (see '${help}')`);
      return 2;
    }
    const message = error instanceof CeleriacError || error instanceof Error
      ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`
      : String(error);
    console.error(`celeriac: error: ${oneLine(censorText(message))}`);
    if (debugging()) console.error(censorValue(error));
    return 1;
  }
}
