/**
 * Checking up front the Deno permissions a command needs, and naming every
 * missing flag in one message, rather than dying later on `getaddrinfo
 * EPERM` or quietly keeping data somewhere else. Two rounds: what loading the
 * app needs (read the module, the environment), then what its broker, result
 * backend and files need (network, read/write), once the app says which.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { maskUrl } from "../app/mask_url.ts";
import { parentDirectory, sqliteFilePath } from "../transports/sqlite/location.ts";
import { defaultPort, schemeOf } from "../transports/schemes.ts";
import { splitAppSpecifier } from "./load_app.ts";

/** One permission a command needs, the flag that grants it and why. */
export interface PermissionNeed {
  /** What to query. */
  descriptor: Deno.PermissionDescriptor;
  /** The flag, e.g. `--allow-net=localhost:5672`. */
  flag: string;
  /** Why, e.g. `broker amqp://guest:**@localhost:5672//`. */
  why: string;
}

/** Deno permissions a command was not given; the message names every missing flag. */
export class MissingPermissionsError extends Error {
  /** What was missing. */
  readonly missing: readonly PermissionNeed[];

  /** Creates the error for `command`; `more` notes what is checked once the app is loaded. */
  constructor(command: string, missing: PermissionNeed[], more = "") {
    const flags = missing.map((need) => `${need.flag} (${need.why})`).join(", ");
    super(
      `celeriac ${command} needs Deno permissions it was not given: ${flags}${more}. Add these ` +
        `flags after 'deno run', or use -A there (all permissions): ` +
        `deno run -A jsr:@celeriac/celeriac/cli ${command} --app …`,
    );
    this.name = "MissingPermissionsError";
    this.missing = missing;
  }
}

function granted(need: PermissionNeed): boolean {
  try {
    return Deno.permissions.querySync(need.descriptor).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Throws a MissingPermissionsError naming every need that is not granted;
 * `more` is added after the list (what else will be needed).
 */
export function requirePermissions(command: string, needs: PermissionNeed[], more = ""): void {
  const seen = new Set<string>();
  const missing = needs.filter((need) => {
    if (granted(need) || seen.has(need.flag)) return false;
    seen.add(need.flag);
    return true;
  });
  if (missing.length > 0) throw new MissingPermissionsError(command, missing, more);
}

/** Said after the first round's list: the app's broker is not known yet. */
export const LOADING_NOTE = "; then, once the app is loaded, --allow-net for a RabbitMQ or " +
  "Redis broker or result backend, or --allow-read and --allow-write for the embedded " +
  "default's file";

/** What loading the app needs: reading its module, and the environment (CELERY_BROKER_URL, …). */
export function loadingNeeds(command: string, appSpecifier: string | undefined): PermissionNeed[] {
  const needs: PermissionNeed[] = [{
    descriptor: { name: "env" },
    flag: "--allow-env",
    why: "CELERY_BROKER_URL, CELERY_RESULT_BACKEND, CELERIAC_HOME and HOME say where data lives",
  }];
  const module = appSpecifier ? splitAppSpecifier(appSpecifier).module : undefined;
  if (module && (!/^[a-z][a-z0-9+.-]*:/i.test(module) || module.startsWith("file:"))) {
    const path = module.startsWith("file:") ? new URL(module).pathname : module;
    needs.push({
      descriptor: { name: "read", path },
      flag: "--allow-read",
      why: `import ${module}`,
    });
  }
  if (command === "worker") {
    needs.push({
      descriptor: { name: "sys", kind: "hostname" },
      flag: "--allow-sys=hostname",
      why: "the worker's node name, celery@<host name>",
    });
  }
  return needs;
}

/** `host:port` of each address in a network URL (several for `sentinel://a;sentinel://b`). */
function hostsOf(url: string): string[] {
  const scheme = schemeOf(url);
  return url.split(";").filter((part) => part.trim()).map((part) => {
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(part.trim())?.[1] ?? "";
    const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
    const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
    const host = match?.[1] || (scheme.startsWith("redis") ? "127.0.0.1" : "localhost");
    return `${host.replace(/^\[|\]$/g, "")}:${match?.[2] ?? defaultPort(scheme) ?? ""}`;
  });
}

function urlNeeds(url: string, role: string): PermissionNeed[] {
  const scheme = schemeOf(url);
  if (scheme === "sqlite") {
    const file = sqliteFilePath(url);
    const directory = parentDirectory(file);
    const why = `${role} data in ${file}`;
    return [
      { descriptor: { name: "read", path: directory }, flag: `--allow-read=${directory}`, why },
      { descriptor: { name: "write", path: directory }, flag: `--allow-write=${directory}`, why },
    ];
  }
  if (defaultPort(scheme) === undefined) return [];
  return hostsOf(url).map((host) => ({
    descriptor: { name: "net", host },
    flag: `--allow-net=${host}`,
    why: `${role} ${maskUrl(url)}`,
  }));
}

/** `-s FILE` / `--schedule FILE` / `--schedule=FILE` among `args`. */
function scheduleFlag(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index++) {
    if (args[index] === "-s" || args[index] === "--schedule") return args[index + 1];
    if (args[index].startsWith("--schedule=")) return args[index].slice("--schedule=".length);
  }
  return undefined;
}

/** Beat's schedule file (`beat`, `worker -B`): read and write in its directory. */
export function scheduleNeeds(
  command: string,
  args: readonly string[],
  app: Celery,
): PermissionNeed[] {
  const beat = command === "beat" ||
    (command === "worker" && (args.includes("-B") || args.includes("--beat")));
  if (!beat) return [];
  const file = scheduleFlag(args) ?? app.conf.beat_schedule_filename;
  const directory = parentDirectory(file);
  const why = `beat's schedule file ${file}`;
  return [
    { descriptor: { name: "read", path: directory }, flag: `--allow-read=${directory}`, why },
    { descriptor: { name: "write", path: directory }, flag: `--allow-write=${directory}`, why },
  ];
}

/** What the app's broker and result backend need (network hosts, the embedded SQLite file). */
export function connectionNeeds(app: Celery): PermissionNeed[] {
  const broker = app.brokerUrl();
  const backend = app.backendUrl();
  const needs = urlNeeds(broker, "broker");
  if (backend && /^(rpc|amqp)(:|$)/i.test(backend)) {
    if (/^amqp:\/\/[^/]/i.test(backend)) needs.push(...urlNeeds(backend, "result backend"));
    else needs.push(...urlNeeds(broker, "result backend"));
  } else if (backend) {
    needs.push(...urlNeeds(backend, "result backend"));
  }
  return needs;
}
