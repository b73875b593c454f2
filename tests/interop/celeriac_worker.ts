/**
 * A real celeriac worker in its own process, as users run it:
 * `deno run -A cli.ts worker -A <module> -c N -Q a,b -P <pool> -l INFO`.
 * Tests start it, wait for its "ready." line, and stop it with SIGTERM (warm
 * shutdown) or SIGKILL (a crash).
 *
 * ```ts
 * await using worker = await startCeleriacWorker({ module: "tests/interop/worker_app.ts", env });
 * ```
 *
 * @module
 */

/** The repository root (where `cli.ts` is). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/** Options of `startCeleriacWorker`. */
export interface CeleriacWorkerOptions {
  /** The `-A` app module, relative to the repository root (`tests/interop/worker_app.ts`). */
  module: string;
  /** Environment for the worker (`CELERY_BROKER_URL`, `CELERIAC_IT_CONFIG`, …). */
  env: Record<string, string>;
  /** `-Q`; default: the app's queues. */
  queues?: string[];
  /** `-c`. Default 2. */
  concurrency?: number;
  /** `-P`. Default `workers` (worker threads). */
  pool?: "workers" | "threads" | "async" | "solo";
  /** `-n`; default `celeriac-<random>@%h`. */
  hostname?: string;
  /** Further command-line arguments. */
  args?: string[];
  /** Longest wait for "ready." (default 30,000 ms). */
  readyTimeoutMs?: number;
}

/** A running celeriac worker process. */
export class CeleriacWorkerProcess implements AsyncDisposable {
  /** Its node name. */
  readonly hostname: string;
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  #stdout = "";
  #stderr = "";

  /** Wraps a spawned worker; use `startCeleriacWorker`. */
  constructor(child: Deno.ChildProcess, hostname: string, onOutput: () => void) {
    this.#child = child;
    this.hostname = hostname;
    const read = async (stream: ReadableStream<Uint8Array>, err: boolean) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (err) this.#stderr += text;
        else this.#stdout += text;
        onOutput();
      }
    };
    this.#drained = Promise.all([read(child.stdout, false), read(child.stderr, true)]).then(
      () => {},
    );
  }

  /** Everything printed on stdout (the banner). */
  get stdout(): string {
    return this.#stdout;
  }

  /** Everything printed on stderr (log lines). */
  get stderr(): string {
    return this.#stderr;
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves with the exit status once the process ended. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status;
  }

  /** Warm shutdown (SIGTERM), then SIGKILL after `graceMs`; returns the exit status. */
  async stop(graceMs = 15_000): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => this.#signal("SIGKILL"), graceMs);
    this.#signal("SIGTERM");
    const status = await this.#child.status;
    clearTimeout(timer);
    await this.#drained;
    return status;
  }

  /** SIGKILL, as a crash or the OOM killer would; waits until the process is gone. */
  async kill(): Promise<void> {
    this.#signal("SIGKILL");
    await this.#child.status;
    await this.#drained;
  }

  #signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Same as `stop()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The command line of a worker (without `deno`). */
export function workerArgs(options: CeleriacWorkerOptions, hostname: string): string[] {
  return [
    "run",
    "-A",
    "cli.ts",
    "worker",
    "-A",
    options.module,
    "-c",
    String(options.concurrency ?? 2),
    "-P",
    options.pool ?? "threads",
    "-n",
    hostname,
    "-l",
    "INFO",
    "--without-banner",
    ...(options.queues ? ["-Q", options.queues.join(",")] : []),
    ...(options.args ?? []),
  ];
}

/** Starts a worker process and waits until it logs "<hostname> ready.". */
export async function startCeleriacWorker(
  options: CeleriacWorkerOptions,
): Promise<CeleriacWorkerProcess> {
  const hostname = options.hostname ?? `celeriac-${crypto.randomUUID().slice(0, 8)}@test`;
  const child = new Deno.Command(Deno.execPath(), {
    args: workerArgs(options, hostname),
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => markReady = resolve);
  const worker = new CeleriacWorkerProcess(child, hostname, () => {
    if (worker.stderr.includes(`${hostname} ready.`)) markReady();
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready" as const),
    child.status.then(() => "exited" as const),
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), options.readyTimeoutMs ?? 30_000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    await worker.stop(1000);
    throw new Error(
      `The celeriac worker did not start (${outcome}):\n${worker.stdout}\n${worker.stderr}`,
    );
  }
  return worker;
}
