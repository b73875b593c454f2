/**
 * Python Celery 5.2.6 (`/usr/bin/python3`) for the reliability interop
 * tests: `python/rel_client.py` sends calls and reports what Python saw, and
 * `python/rel_app.py` runs as a worker. Both are configured by `RelEnv`.
 *
 * @module
 */

import { PYTHON } from "../services.ts";

const DIR = new URL("./python/", import.meta.url).pathname;

/** How the Python app is configured. */
export interface RelEnv {
  /** Broker URL. */
  broker: string;
  /** Result backend URL (`""`: none). */
  backend: string;
  /** `task_default_queue`. */
  queue: string;
  /** Further settings. */
  config?: Record<string, unknown>;
}

function envOf(env: RelEnv): Record<string, string> {
  return {
    REL_BROKER: env.broker,
    REL_BACKEND: env.backend,
    REL_QUEUE: env.queue,
    REL_CONFIG: JSON.stringify(env.config ?? {}),
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
  };
}

/** One call for rel_client.py. */
export interface RelCall {
  /** Task name. */
  task: string;
  /** Positional arguments. */
  args?: unknown[];
  /** `send_task` options (`time_limit`, `countdown`, `queue`, …). */
  options?: Record<string, unknown>;
  /** Wait for the result. */
  get?: boolean;
  /** Poll and report the distinct states seen until ready. */
  watch_states?: boolean;
  /** Seconds. */
  timeout?: number;
}

/** What rel_client.py saw of one call. */
export interface RelOutcome {
  /** Task id. */
  id: string;
  /** Return value. */
  value?: unknown;
  /** The exception Python rebuilt. */
  error?: { type: string; module: string; args: unknown[] };
  /** Distinct states seen, in order. */
  states?: string[];
}

/** Runs rel_client.py with `calls`. */
export async function runPythonClient(env: RelEnv, calls: RelCall[]): Promise<RelOutcome[]> {
  const child = new Deno.Command(PYTHON, {
    args: ["rel_client.py"],
    cwd: DIR,
    env: envOf(env),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ calls })));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  if (code !== 0) throw new Error(`rel_client.py exited with ${code}:\n${text.decode(stderr)}`);
  return JSON.parse(text.decode(stdout)).calls;
}

/** A running Python worker of rel_app.py. */
export class PythonWorker implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  #log = "";

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#drained = Promise.all([child.stdout, child.stderr].map(async (stream) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.#log += decoder.decode(chunk, { stream: true });
    })).then(() => {});
  }

  /** Starts `celery -A rel_app worker` on the env's queue; resolves once it logged "ready.". */
  static async start(env: RelEnv): Promise<PythonWorker> {
    const child = new Deno.Command(PYTHON, {
      args: [
        "-m",
        "celery",
        "-A",
        "rel_app",
        "worker",
        "--loglevel",
        "INFO",
        "-n",
        `rel-${crypto.randomUUID().slice(0, 8)}@%h`,
        "-Q",
        env.queue,
        "-c",
        "1",
        "-P",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
      ],
      cwd: DIR,
      env: envOf(env),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const worker = new PythonWorker(child);
    const deadline = Date.now() + 30_000;
    while (!/ ready\.\s*$/m.test(worker.#log)) {
      if (Date.now() > deadline) {
        await worker.stop();
        throw new Error(`The Python worker did not start:\n${worker.#log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return worker;
  }

  /** Everything it printed. */
  get log(): string {
    return this.#log;
  }

  /** Warm shutdown (SIGTERM), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 15_000);
    try {
      this.#child.kill("SIGTERM");
    } catch { /* gone */ }
    await this.#child.status;
    clearTimeout(timer);
    await this.#drained;
  }

  /** Same as `stop()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
