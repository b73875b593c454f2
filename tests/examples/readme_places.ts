/**
 * Private places on the shared services for the README tests, which run the
 * README's code unchanged (default queue `celery` and all): a fresh RabbitMQ
 * vhost, a Redis database nobody else uses, or an embedded SQLite file. The
 * code reaches them through `CELERY_BROKER_URL` / `CELERY_RESULT_BACKEND`,
 * which win over the snippet's URLs as in Celery.
 *
 * @module
 */

import { rabbitmqctl } from "../integration/amqp_helpers.ts";
import { rawRedis } from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";

/** Where one run's broker and results live. */
export interface Place {
  /** `CELERY_BROKER_URL` and `CELERY_RESULT_BACKEND` (and `CELERIAC_HOME`). */
  env: Record<string, string>;
  /** Removes everything the run left. */
  cleanUp(): Promise<void>;
}

/** The brokers a README snippet runs against. */
export type BrokerChoice = "embedded" | "rabbitmq" | "rabbitmq-rpc" | "redis";

const LOCK_KEY = "celeriac-readme-test-lock";

/** Claims an empty Redis database (1–15) with a lock key; throws when none is free. */
async function claimRedisDb(): Promise<number> {
  const redis = rawRedis("redis://127.0.0.1:6379/0");
  try {
    for (let db = 15; db >= 1; db--) {
      await redis.select(db);
      if (await redis.dbsize() !== 0) continue;
      if (await redis.set(LOCK_KEY, String(Deno.pid), "EX", 600, "NX") === "OK") return db;
    }
  } finally {
    await redis.quit();
  }
  throw new Error("no empty Redis database among 1-15 for the README test");
}

/** A private place for `choice`, or undefined when its service does not answer (outside CI). */
export async function placeFor(choice: BrokerChoice, dir: string): Promise<Place | undefined> {
  if (choice === "embedded") {
    const url = `sqlite://${dir}/embedded.sqlite3`;
    return {
      env: { CELERY_BROKER_URL: url, CELERY_RESULT_BACKEND: url, CELERIAC_HOME: dir },
      cleanUp: () => Promise.resolve(),
    };
  }
  if (!await serviceAvailable(choice === "redis" ? "redis" : "rabbitmq")) return undefined;
  if (choice === "rabbitmq-rpc") {
    const vhost = uniqueName("celeriac-readme");
    await rabbitmqctl(["add_vhost", vhost]);
    await rabbitmqctl(["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]);
    return {
      env: {
        CELERY_BROKER_URL: `amqp://guest:guest@127.0.0.1:5672/${vhost}`,
        CELERY_RESULT_BACKEND: "rpc://",
        CELERIAC_HOME: dir,
      },
      cleanUp: async () => void await rabbitmqctl(["delete_vhost", vhost]),
    };
  }
  if (choice === "rabbitmq") {
    const vhost = uniqueName("celeriac-readme");
    await rabbitmqctl(["add_vhost", vhost]);
    await rabbitmqctl(["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]);
    const db = await claimRedisDb();
    const results = `redis://127.0.0.1:6379/${db}`;
    return {
      env: {
        CELERY_BROKER_URL: `amqp://guest:guest@127.0.0.1:5672/${vhost}`,
        CELERY_RESULT_BACKEND: results,
        CELERIAC_HOME: dir,
      },
      cleanUp: async () => {
        await rabbitmqctl(["delete_vhost", vhost]);
        await flushRedisDb(db);
      },
    };
  }
  const db = await claimRedisDb();
  const url = `redis://127.0.0.1:6379/${db}`;
  return {
    env: { CELERY_BROKER_URL: url, CELERY_RESULT_BACKEND: url, CELERIAC_HOME: dir },
    cleanUp: () => flushRedisDb(db),
  };
}

async function flushRedisDb(db: number): Promise<void> {
  const redis = rawRedis(`redis://127.0.0.1:6379/${db}`);
  try {
    await redis.flushdb();
  } finally {
    await redis.quit();
  }
}

/** What a finished process printed, and when. */
export interface TimedRun {
  /** Exit code (null when it had to be killed). */
  code: number | null;
  /** stdout. */
  stdout: string;
  /** stderr. */
  stderr: string;
  /** Milliseconds between its last output and its exit. */
  exitLagMs: number;
}

/** Runs `args` (first word the program) in `cwd`; kills it after `limitMs`. */
export async function runTimed(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  limitMs: number,
): Promise<TimedRun> {
  const [program, ...rest] = args;
  const child = new Deno.Command(program === "deno" ? Deno.execPath() : program, {
    args: rest,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let lastOutputAt = performance.now();
  const collect = (stream: ReadableStream<Uint8Array>) => {
    let text = "";
    const done = stream.pipeTo(
      new WritableStream({
        write: (chunk) => {
          text += decoder.decode(chunk);
          lastOutputAt = performance.now();
        },
      }),
    );
    return { text: () => text, done };
  };
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitMs);
  const status = await child.status;
  const exitedAt = performance.now();
  clearTimeout(timer);
  await Promise.all([stdout.done, stderr.done]);
  return {
    code: killed ? null : status.code,
    stdout: stdout.text(),
    stderr: stderr.text(),
    exitLagMs: exitedAt - lastOutputAt,
  };
}

/** A long-running process (a worker) started from a README command line. */
export interface Background {
  /** Stderr so far. */
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects if the process exits first or after `limitMs`. */
  waitFor(pattern: RegExp, limitMs?: number): Promise<void>;
  /** SIGTERM, then the exit code and everything printed. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Waits for the process to exit by itself (SIGKILL and a failure after `limitMs`). */
  exit(limitMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `args` in `cwd` in the background. */
export function startBackground(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Background {
  const [program, ...rest] = args;
  const child = new Deno.Command(program === "deno" ? Deno.execPath() : program, {
    args: rest,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  let stderr = "";
  const outDone = child.stdout.pipeTo(
    new WritableStream({ write: (chunk) => void (stdout += decoder.decode(chunk)) }),
  );
  const errDone = child.stderr.pipeTo(
    new WritableStream({ write: (chunk) => void (stderr += decoder.decode(chunk)) }),
  );
  let exited = false;
  const status = child.status.then((value) => {
    exited = true;
    return value;
  });
  return {
    stderr: () => stderr,
    async waitFor(pattern, limitMs = 30_000) {
      const deadline = Date.now() + limitMs;
      while (!pattern.test(stderr)) {
        if (exited) throw new Error(`exited before ${pattern}:\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) {
          throw new Error(`no ${pattern} within ${limitMs} ms:\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      const { code } = await status;
      await Promise.all([outDone, errDone]);
      return { code, stdout, stderr };
    },
    async exit(limitMs = 30_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), limitMs)
      );
      const outcome = await Promise.race([status, late]);
      clearTimeout(timer);
      if (outcome === "late") {
        child.kill("SIGKILL");
        await status;
        throw new Error(`still running after ${limitMs} ms:\n${stderr}`);
      }
      await Promise.all([outDone, errDone]);
      return { code: outcome.code, stdout, stderr };
    },
  };
}
