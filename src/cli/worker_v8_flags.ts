/**
 * `celeriac worker` started the plain way (`deno run -A cli.ts worker …`, as
 * the Quick start shows) restarts itself once, in the same process, with
 * `--max-semi-space-size=1,--expose-gc` added to V8's flags: the same pid, arguments,
 * permissions, standard streams and signal handling, as an `execve` of the
 * same command line with `DENO_V8_FLAGS` set.
 *
 * Why: under a flood each V8 isolate's young generation grows from 1 to 32
 * MiB semi-spaces (the main thread's and every pool thread's), and a worker
 * draining 50,000 tasks peaked at 2.1–2.6× its resting memory (issue 18).
 * V8 sizes the young generation from flags read when the process starts:
 * `node:v8`'s `setFlagsFromString` changes nothing at run time in Deno, and
 * `resourceLimits` on the pool's threads leaves the main thread unbounded
 * and makes a thread that runs out of memory hang. `--expose-gc` lets each
 * isolate collect its small heap early (`src/worker/heap_trim.ts`): without
 * it the old space fills with promoted garbage between V8's collections
 * (1.6–1.7× resting memory; 1.35–1.45× with it).
 *
 * Nothing happens when the flag is already given (`--v8-flags` or
 * `DENO_V8_FLAGS` naming `--max-semi-space-size`, e.g. `deno task worker` or
 * a larger value of the user's), in a `deno compile` binary (its flags are
 * built in), off Linux, or without the permissions it needs (`--allow-ffi`,
 * `--allow-env`, reading `/proc/self/cmdline`; `-A` grants them): the worker
 * then runs as started. The restarted process puts `DENO_V8_FLAGS` back as it
 * was, so tasks and the processes they start do not inherit it.
 *
 * @module
 */

import { commandFirst } from "./main.ts";

/**
 * The flags added: semi-spaces of at most 1 MiB, and V8's `gc()`, with which
 * each isolate keeps a small heap near its live size (`src/worker/heap_trim.ts`).
 */
export const WORKER_V8_FLAG = "--max-semi-space-size=1,--expose-gc";
/** Set for the restarted process: the `DENO_V8_FLAGS` it had before (JSON, null if unset). */
const RESTART_MARK = "CELERIAC_DENO_V8_FLAGS_BEFORE";
const SEMI_SPACE = /--max[-_]semi[-_]space[-_]size/;

/**
 * When `args` (the CLI's arguments) start a worker and V8 was started
 * without a semi-space limit, replaces this process with the same command
 * plus `WORKER_V8_FLAG` (does not return then). Otherwise returns, having
 * put `DENO_V8_FLAGS` back if this process is the restarted one. Call it
 * only from the command line's entry point, before anything else runs.
 */
export function restartWithWorkerV8Flags(args: string[]): void {
  try {
    if (restoreEnvironment()) return;
    const argv = restartArgv(args);
    if (!argv) return;
    const before = Deno.env.get("DENO_V8_FLAGS");
    execve(Deno.execPath(), argv, {
      ...Deno.env.toObject(),
      DENO_V8_FLAGS: before ? `${before},${WORKER_V8_FLAG}` : WORKER_V8_FLAG,
      [RESTART_MARK]: JSON.stringify(before ?? null),
    });
  } catch {
    // Not possible here (no libc, a permission, a failed execve): run as started.
  }
}

/** In the restarted process: puts `DENO_V8_FLAGS` back as it was; true if it was this process. */
function restoreEnvironment(): boolean {
  if (!granted({ name: "env" })) return false;
  const before = Deno.env.get(RESTART_MARK);
  if (before === undefined) return false;
  Deno.env.delete(RESTART_MARK);
  const value = JSON.parse(before) as string | null;
  if (value === null) Deno.env.delete("DENO_V8_FLAGS");
  else Deno.env.set("DENO_V8_FLAGS", value);
  return true;
}

/** This process's command line, if it should restart with the flag. */
function restartArgv(args: string[]): string[] | undefined {
  const [command, ...rest] = commandFirst(args);
  if (command !== "worker" || rest.includes("--help") || rest.includes("-h")) return undefined;
  if (Deno.build.os !== "linux" || Deno.build.standalone) return undefined;
  const needed: Deno.PermissionDescriptor[] = [
    { name: "ffi" },
    { name: "env" },
    { name: "read", path: "/proc/self/cmdline" },
  ];
  if (!needed.every(granted)) return undefined;
  if (SEMI_SPACE.test(Deno.env.get("DENO_V8_FLAGS") ?? "")) return undefined;
  const argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0").slice(0, -1);
  // Deno's own options come before the script and its arguments (Deno.args).
  const denoOptions = argv.slice(0, argv.length - Deno.args.length - 1);
  if (denoOptions.some((option) => SEMI_SPACE.test(option))) return undefined;
  return argv;
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(descriptor).state === "granted";
}

/** Replaces this process (libc `execve`); returns only if that failed. */
function execve(path: string, argv: string[], env: Record<string, string>): void {
  const libc = Deno.dlopen("libc.so.6", {
    execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  });
  const encoder = new TextEncoder();
  const kept: Uint8Array[] = []; // the strings must outlive the call
  const cString = (text: string) => {
    const bytes = encoder.encode(`${text}\0`);
    kept.push(bytes);
    return bytes;
  };
  const cArray = (texts: string[]) => {
    const pointers = new BigUint64Array(texts.length + 1); // null-terminated
    texts.forEach((text, index) => {
      pointers[index] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(cString(text))));
    });
    return new Uint8Array(pointers.buffer);
  };
  const environment = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  libc.symbols.execve(cString(path), cArray(argv), cArray(environment));
  libc.close();
}
