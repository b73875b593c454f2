/**
 * A benchmarked worker process: spawned, its `@@bench {json}` lines (stdout
 * or stderr) read as they come, its CPU time read from /proc, its memory sampled every 200 ms (VmHWM summed over the
 * process and its descendants, from /proc, as BENCHMARKS.md says), and
 * stopped with SIGTERM (then SIGKILL).
 *
 * @module
 */

import { sleep } from "./stats.ts";

/** The marker before every report line a benchmark worker prints. */
export const REPORT_MARK = "@@bench ";

/** How to start a worker process. */
export interface ProcessSpec {
  /** Executable. */
  command: string;
  /** Arguments. */
  args: string[];
  /** Extra environment. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Called once the process has exited (clean-up of its files). */
  onStop?: () => Promise<void> | void;
}

function readKb(status: string, field: string): number {
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return match ? Number(match[1]) : 0;
}

/** The pids of `root` and all its descendants (via /proc/<pid>/task/<tid>/children). */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    try {
      for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
        const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
        if (text) stack.push(...text.split(/\s+/).map(Number));
      }
    } catch { /* gone */ }
  }
  return out;
}

/** VmHWM and VmRSS (kB) summed over a process tree. */
export function treeMemory(root: number): { hwmKb: number; rssKb: number } {
  let hwmKb = 0;
  let rssKb = 0;
  for (const pid of processTree(root)) {
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      hwmKb += readKb(status, "VmHWM");
      rssKb += readKb(status, "VmRSS");
    } catch { /* gone */ }
  }
  return { hwmKb, rssKb };
}

/** CPU time (user + system, ms) summed over a process tree, from /proc/<pid>/stat. */
export function treeCpuMs(root: number): number {
  const tick = 10; // USER_HZ is 100 on Linux
  let ms = 0;
  for (const pid of processTree(root)) {
    try {
      const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
      ms += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch { /* gone */ }
  }
  return ms;
}

/**
 * The process id of the server behind `brokerUrl` on this machine: RabbitMQ's
 * Erlang VM (`beam.smp`) for `amqp://`, else the `redis-server` listening on
 * the URL's port. Throws when none runs here (a remote broker's CPU cannot be read).
 */
export function brokerServerPid(brokerUrl: string): number {
  const amqp = brokerUrl.startsWith("amqp");
  const port = new URL(brokerUrl).port || "6379";
  const pattern = amqp ? "beam.smp.*rabbit" : `^redis-server [^ ]*:${port}( |$)`;
  const found = new Deno.Command("pgrep", { args: ["-f", pattern] }).outputSync();
  const pid = Number(new TextDecoder().decode(found.stdout).trim().split("\n")[0]);
  if (!pid) throw new Error(`no ${amqp ? "RabbitMQ" : "Redis"} server runs on this machine`);
  return pid;
}

/** A running benchmark worker. */
export class WatchedProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #reports: Record<string, unknown>[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #sampler: ReturnType<typeof setInterval>;
  readonly #reading: Promise<void>;
  readonly #onStop?: () => Promise<void> | void;
  #stderr = "";
  #exited = false;
  /** Largest summed VmHWM seen (kB). */
  peakKb = 0;
  /** CPU time (ms) when the `ready` report arrived. */
  cpuAtReady = NaN;

  /** Spawns the process. */
  constructor(spec: ProcessSpec) {
    this.#onStop = spec.onStop;
    this.#child = new Deno.Command(spec.command, {
      args: spec.args,
      env: spec.env,
      cwd: spec.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child.status.then(() => {
      this.#exited = true;
      this.#wake();
    });
    this.#reading = Promise.all([
      this.#readLines(this.#child.stdout, false),
      this.#readLines(this.#child.stderr, true),
    ]).then(() => {});
    this.#sampler = setInterval(() => this.sample(), 200);
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** CPU time used so far by the process and its children (ms). */
  cpuMs(): number {
    return this.#exited ? NaN : treeCpuMs(this.#child.pid);
  }

  /** Samples memory now; returns the current summed VmRSS (kB). */
  sample(): number {
    if (this.#exited) return 0;
    const { hwmKb, rssKb } = treeMemory(this.#child.pid);
    if (hwmKb > this.peakKb) this.peakKb = hwmKb;
    return rssKb;
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #readLines(stream: ReadableStream<Uint8Array>, keep: boolean): Promise<void> {
    return (async () => {
      let buffer = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        if (keep) this.#stderr = (this.#stderr + chunk).slice(-4000);
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          const at = line.indexOf(REPORT_MARK);
          if (at >= 0) this.#onReport(JSON.parse(line.slice(at + REPORT_MARK.length)));
        }
      }
    })();
  }

  #onReport(report: Record<string, unknown>): void {
    if ("ready" in report) this.cpuAtReady = this.cpuMs();
    this.#reports.push(report);
    this.#wake();
  }

  /** Waits for the first report that has `key`; throws if the process exits or time runs out. */
  async report<T = Record<string, unknown>>(key: string, timeoutMs = 180_000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const found = this.#reports.find((report) => key in report);
      if (found) return found as T;
      if (this.#exited) {
        throw new Error(`The worker exited before reporting ${key}:\n${this.#stderr}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`No ${key} report after ${timeoutMs} ms:\n${this.#stderr}`);
      await Promise.race([
        new Promise<void>((resolve) => this.#waiters.push(resolve)),
        sleep(Math.min(left, 250)),
      ]);
    }
  }

  /** The last few kB the process wrote to stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; waits for the exit and the pipes. */
  async stop(graceMs = 15_000): Promise<void> {
    clearInterval(this.#sampler);
    if (!this.#exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          for (const pid of processTree(this.#child.pid).reverse()) Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }, graceMs);
      await this.#child.status;
      clearTimeout(timer);
    }
    await this.#reading;
    await this.#onStop?.();
  }

  /** Same as `stop()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
