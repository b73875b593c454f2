/**
 * Running real Python Celery 5.2.6 (`/usr/bin/python3`) from interop tests:
 * a worker of `celery_app.py` in the background, and `client.py` with a plan
 * of calls. Broker, backend and queue come from `PythonEnv`, so the same
 * harness serves RabbitMQ and Redis tests.
 *
 * ```ts
 * await using worker = await startPythonWorker({ env: { broker, backend: "rpc://", queue } });
 * const out = await runPythonClient({ calls: [{ task: "interop.add", args: [1, 2] }] }, { broker, queue });
 * ```
 *
 * @module
 */

import { PYTHON } from "../../services.ts";

/** The directory holding `celery_app.py` and `client.py`. */
export const PYTHON_APP_DIR: string = new URL(".", import.meta.url).pathname;

/** How the Python app is configured (the `CELERIAC_PY_*` variables). */
export interface PythonEnv {
  /** The app module in this directory (default `celery_app`; `seed_app` is the seeds' config). */
  app?: string;
  /** Broker URL. */
  broker: string;
  /** Result backend URL (`rpc://`, `redis://…`); `""` for none. Default `rpc://`. */
  backend?: string;
  /** `task_default_queue`. Default `celery`. */
  queue?: string;
  /** `task_queue_max_priority`. */
  maxPriority?: number;
  /** Further Celery settings (JSON). */
  config?: Record<string, unknown>;
}

/** The environment variables that configure the Python app. */
export function envVars(env: PythonEnv): Record<string, string> {
  const vars: Record<string, string> = {
    CELERIAC_PY_APP: env.app ?? "celery_app",
    CELERIAC_PY_BROKER: env.broker,
    CELERIAC_PY_BACKEND: env.backend ?? "rpc://",
    CELERIAC_PY_QUEUE: env.queue ?? "celery",
    CELERIAC_PY_CONFIG: JSON.stringify(env.config ?? {}),
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
  };
  if (env.maxPriority !== undefined) vars.CELERIAC_PY_MAX_PRIORITY = String(env.maxPriority);
  return vars;
}

/** Options of `startPythonWorker`. */
export interface PythonWorkerOptions {
  /** App configuration. */
  env: PythonEnv;
  /** Queues to consume (`-Q`); default: the app's default queue. */
  queues?: string[];
  /** `-c`. Default 2. */
  concurrency?: number;
  /** `-P`: `prefork` (default), `threads`, `solo`. */
  pool?: "prefork" | "threads" | "solo";
  /** Longest wait for "ready." (default 30,000 ms). */
  readyTimeoutMs?: number;
  /** Further environment variables. */
  extraEnv?: Record<string, string>;
  /** `-n`; default `interop-<random>@%h`. */
  hostname?: string;
  /** Send heartbeats (default false: `--without-heartbeat`). */
  heartbeat?: boolean;
  /** Sync revoked ids with running workers at start (default false: `--without-mingle`). */
  mingle?: boolean;
  /** Further command-line arguments (`-E`, …). */
  args?: string[];
}

/** A running Python Celery worker; `stop()` (or `await using`) shuts it down. */
export class PythonWorker implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  #log = "";

  /** Spawns the worker; use `startPythonWorker`. */
  constructor(child: Deno.ChildProcess, onLine: (worker: PythonWorker) => void) {
    this.#child = child;
    this.#drained = Promise.all([child.stdout, child.stderr].map(async (stream) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.#log += decoder.decode(chunk, { stream: true });
        onLine(this);
      }
    })).then(() => {});
  }

  /** Everything the worker printed so far. */
  get log(): string {
    return this.#log;
  }

  /** Resolves with the exit status once the process ended. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status;
  }

  /** Warm shutdown (SIGTERM), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, graceMs);
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    clearTimeout(timer);
    await this.#drained;
  }

  /** Same as `stop()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts `celery -A celery_app worker` (or `env.app`) and waits until it logs "ready.". */
export async function startPythonWorker(options: PythonWorkerOptions): Promise<PythonWorker> {
  const queue = options.env.queue ?? "celery";
  const args = [
    "-m",
    "celery",
    "-A",
    options.env.app ?? "celery_app",
    "worker",
    "--loglevel",
    "INFO",
    "-n",
    options.hostname ?? `interop-${crypto.randomUUID().slice(0, 8)}@%h`,
    "-Q",
    (options.queues ?? [queue]).join(","),
    "-c",
    String(options.concurrency ?? 2),
    "-P",
    options.pool ?? "prefork",
    "--without-gossip",
    ...(options.mingle ? [] : ["--without-mingle"]),
    ...(options.heartbeat ? [] : ["--without-heartbeat"]),
    ...(options.args ?? []),
  ];
  const child = new Deno.Command(PYTHON, {
    args,
    cwd: PYTHON_APP_DIR,
    env: { ...envVars(options.env), ...options.extraEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => markReady = resolve);
  const worker = new PythonWorker(child, (w) => {
    if (/ ready\.\s*$/m.test(w.log)) markReady();
  });
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready" as const),
    child.status.then(() => "exited" as const),
    new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
  ]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    await worker.stop(1000);
    throw new Error(`The Python Celery worker did not start (${outcome}):\n${worker.log}`);
  }
  return worker;
}

/** One call in a client plan (see client.py). */
export interface PythonCall {
  /** `delay`, `apply_async` (default) or `send_task`. */
  method?: "delay" | "apply_async" | "send_task";
  /** Task name. */
  task: string;
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments. */
  kwargs?: Record<string, unknown>;
  /** apply_async / send_task options (`countdown`, `queue`, `priority`, …). */
  options?: Record<string, unknown>;
  /** Wait for the result (default true). */
  get?: boolean;
  /** Seconds to wait for the result (default 30). */
  timeout?: number;
}

/** A plan for client.py. */
export interface PythonPlan {
  /** Calls, sent in order, then their results read in order. */
  calls?: PythonCall[];
  /** Many `task(i, i)` calls in flight, then every result checked to be `2 * i`. */
  bulk?: {
    task?: string;
    count: number;
    timeout?: number;
    options?: Record<string, unknown>;
  };
  /** Collect results with `ResultSet.join_native` before reading them one by one (faster). */
  joinNative?: boolean;
}

/** What the Python client saw. */
export interface PythonOutcome {
  /** One entry per call: its value, or the exception Python rebuilt. */
  calls: Array<{
    id: string;
    value?: unknown;
    error?: { type: string; module: string; args: unknown[] };
  }>;
  /** Bulk results. */
  bulk?: {
    sent: number;
    received: number;
    wrong: unknown[];
    missing: unknown[];
    missing_count: number;
    seconds: number;
    /** Every bulk task id, in order. */
    ids: string[];
  };
}

/** Runs client.py with `plan`; throws with its stderr when it fails. */
export async function runPythonClient(plan: PythonPlan, env: PythonEnv): Promise<PythonOutcome> {
  const child = new Deno.Command(PYTHON, {
    args: ["client.py"],
    cwd: PYTHON_APP_DIR,
    env: envVars(env),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const { joinNative, ...rest } = plan;
  const wire = { ...rest, join_native: joinNative ?? false };
  await writer.write(new TextEncoder().encode(JSON.stringify(wire)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  if (code !== 0) {
    throw new Error(`client.py exited with ${code}:\n${decoder.decode(stderr)}`);
  }
  return JSON.parse(decoder.decode(stdout)) as PythonOutcome;
}
