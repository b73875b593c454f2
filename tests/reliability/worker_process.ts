/**
 * A celeriac worker in its own process (`cli.ts worker -A fault_app.ts`), for
 * tests that kill it, signal it or restart it. Its settings come from the
 * world (`FAULT_APP_CONFIG`), its output is kept for assertions and for the
 * failure message.
 *
 * @module
 */

import type { World } from "./worlds.ts";
import { FAULT_APP_URL } from "./worlds.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Options of `WorkerProcess.start`. */
export interface WorkerProcessOptions {
  /** `-c` (default 2). */
  concurrency?: number;
  /** `-P` (default: the worker's default, threads). */
  pool?: "workers" | "threads" | "async" | "solo";
  /** Settings added to the world's. */
  settings?: Record<string, unknown>;
  /** `--prefetch-multiplier`. */
  prefetchMultiplier?: number;
  /** V8 flags for the process (`--max-old-space-size=128`). */
  v8Flags?: string[];
}

/** A running worker process. */
export class WorkerProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  #output = "";
  #listeners: (() => void)[] = [];

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#drained = Promise.all([child.stdout, child.stderr].map(async (stream) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.#output += decoder.decode(chunk, { stream: true });
        for (const listener of this.#listeners) listener();
      }
    })).then(() => {});
  }

  /** Starts a worker for `world` and waits until it logs `ready.`. */
  static async start(world: World, options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
    const args = [
      "run",
      "-A",
      ...(options.v8Flags?.length ? [`--v8-flags=${options.v8Flags.join(",")}`] : []),
      CLI,
      "worker",
      "-A",
      FAULT_APP_URL,
      "-c",
      String(options.concurrency ?? 2),
      ...(options.pool ? ["-P", options.pool] : []),
      "-Q",
      world.queue,
      "--loglevel",
      "INFO",
      "--without-banner",
    ];
    if (options.prefetchMultiplier !== undefined) {
      args.push("--prefetch-multiplier", String(options.prefetchMultiplier));
    }
    const child = new Deno.Command(Deno.execPath(), {
      args,
      env: { FAULT_APP_CONFIG: JSON.stringify({ ...world.settings, ...options.settings }) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const worker = new WorkerProcess(child);
    const started = await Promise.race([
      worker.waitFor(/ ready\./, 30_000).then(() => true, () => false),
      child.status.then(() => false),
    ]);
    if (!started) {
      await worker.kill("SIGKILL");
      throw new Error(`The worker process did not start:\n${worker.output}`);
    }
    return worker;
  }

  /** Everything it printed so far. */
  get output(): string {
    return this.#output;
  }

  /** Its process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves once `pattern` appears in its output (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    if (pattern.test(this.#output)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const stop = () => {
        this.#listeners = this.#listeners.filter((listener) => listener !== onOutput);
        clearTimeout(timer);
      };
      const onOutput = () => {
        if (!pattern.test(this.#output)) return;
        stop();
        resolve();
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${pattern} did not appear within ${timeoutMs} ms:\n${this.#output}`));
      }, timeoutMs);
      this.#listeners.push(onOutput);
    });
  }

  /** Sends a signal (ignored when the process already ended). */
  signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Sends `signal` and waits for the process to end; returns its status. */
  async kill(signal: Deno.Signal): Promise<Deno.CommandStatus> {
    this.signal(signal);
    return await this.exited();
  }

  /** Waits for the process to end (SIGKILL after `timeoutMs`); returns its status. */
  async exited(timeoutMs = 30_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    const status = await this.#child.status;
    clearTimeout(timer);
    await this.#drained;
    return status;
  }

  /** SIGKILL unless it ended already. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill("SIGKILL");
  }
}
