/**
 * Events and remote control between celeriac and real Python Celery 5.2.6,
 * both ways, shared by the RabbitMQ and Redis test files. Each setup has its
 * own queue, control namespace (`control_exchange`) and events exchange, so
 * broadcasts never reach another test's workers.
 *
 * - `pythonSeesCeleriacWorker`: Python's `celery inspect ping/registered/
 *   active/stats/active_queues` and `celery control revoke` against a
 *   celeriac worker process started with `-E`, while Python's
 *   `app.events.Receiver` records its heartbeats and task events.
 * - `celeriacSeesPythonWorker`: `app.control.inspect()`, `app.events()` with a
 *   `State`, and `app.control.revoke` against a Python worker with `-E`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import type { CeleryEvent } from "../../src/events/event_types.ts";
import { State } from "../../src/events/state.ts";
import { PYTHON, uniqueName } from "../services.ts";
import { startCeleriacWorker } from "./celeriac_worker.ts";
import { envVars, PYTHON_APP_DIR, type PythonEnv, startPythonWorker } from "./python/harness.ts";

/** One broker's configuration for a scenario. */
export interface EventsControlSetup {
  /** Broker URL. */
  broker: string;
  /** Result backend URL. */
  backend: string;
  /** Settings shared by both sides (queue, control and events exchanges, key prefix). */
  config: Record<string, unknown>;
}

/** Fresh names for one test. */
export function isolatedSettings(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_default_queue: uniqueName("it-evctl"),
    control_exchange: uniqueName("it-ctl"),
    event_exchange: uniqueName("it-ev"),
    ...extra,
  };
}

function pythonEnv(setup: EventsControlSetup): PythonEnv {
  return {
    broker: setup.broker,
    backend: setup.backend,
    queue: setup.config.task_default_queue as string,
    config: setup.config,
  };
}

/** Polls `check` until it returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `celery <args>` (Python Celery's own command line) and returns stdout, stderr and code. */
async function celeryCli(
  setup: EventsControlSetup,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(PYTHON, {
    args: ["-m", "celery", "-A", "celery_app", ...args],
    cwd: PYTHON_APP_DIR,
    env: envVars(pythonEnv(setup)),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** `celery inspect|control <command> --json -d <node>`, parsed. */
async function celeryJson(
  setup: EventsControlSetup,
  kind: "inspect" | "control",
  command: string[],
  node: string,
): Promise<unknown> {
  const out = await celeryCli(setup, [kind, ...command, "--json", "-d", node, "-t", "3"]);
  assert.equal(
    out.code,
    0,
    `celery ${kind} ${command.join(" ")} failed:\n${out.stdout}\n${out.stderr}`,
  );
  return JSON.parse(out.stdout.trim().split("\n")[0]);
}

/** Python's event receiver in the background, printing events as JSON lines. */
class PythonEventCapture {
  readonly events: Record<string, unknown>[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<void>;
  ready = false;
  #log = "";

  constructor(setup: EventsControlSetup, wanted: [string, string, unknown][], seconds: number) {
    this.#child = new Deno.Command(PYTHON, {
      args: ["events_capture.py", String(seconds), JSON.stringify(wanted)],
      cwd: PYTHON_APP_DIR,
      env: envVars(pythonEnv(setup)),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    const readLines = async () => {
      let buffer = "";
      for await (const chunk of this.#child.stdout) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line === "READY") this.ready = true;
          else if (line.startsWith("{")) this.events.push(JSON.parse(line));
        }
      }
    };
    const readErr = async () => {
      for await (const chunk of this.#child.stderr) this.#log += decoder.decode(chunk);
    };
    this.#done = Promise.all([readLines(), readErr()]).then(() => {});
  }

  find(type: string, field: string, value: unknown): Record<string, unknown> | undefined {
    return this.events.find((event) => event.type === type && event[field] === value);
  }

  async finished(): Promise<number> {
    const status = await this.#child.status;
    await this.#done;
    if (status.code !== 0) console.error(this.#log);
    return status.code;
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // gone
    }
  }
}

function clientApp(setup: EventsControlSetup): Celery {
  return new Celery("evctl-client", {
    broker: setup.broker,
    backend: setup.backend,
    config: setup.config,
    setAsCurrent: false,
  });
}

/**
 * Python Celery's tools against a celeriac worker process with `-E`:
 * inspect, control revoke of a countdown task, and its events as seen by
 * Python's event receiver.
 */
export async function pythonSeesCeleriacWorker(setup: EventsControlSetup): Promise<void> {
  const name = uniqueName("evctl");
  const node = `${name}@${Deno.hostname()}`;
  const ids = {
    ok: crypto.randomUUID(),
    fail: crypto.randomUUID(),
    slow: crypto.randomUUID(),
    revoked: crypto.randomUUID(),
  };
  const capture = new PythonEventCapture(setup, [
    ["worker-heartbeat", "hostname", node],
    ["task-succeeded", "uuid", ids.ok],
    ["task-failed", "uuid", ids.fail],
    ["task-revoked", "uuid", ids.revoked],
  ], 60);
  await using client = clientApp(setup);
  try {
    await eventually("Python's event receiver to consume", () => capture.ready || undefined);
    await using worker = await startCeleriacWorker({
      module: "tests/interop/worker_app.ts",
      env: {
        CELERY_BROKER_URL: setup.broker,
        CELERY_RESULT_BACKEND: setup.backend,
        CELERIAC_IT_CONFIG: JSON.stringify(setup.config),
      },
      hostname: node,
      concurrency: 2,
      args: ["-E", "-l", "INFO"],
    });
    await eventually(
      "a heartbeat from the celeriac worker",
      () =>
        capture.find("worker-heartbeat", "hostname", node) ??
          capture.find("worker-online", "hostname", node),
    );

    // celery inspect ping / registered / stats / active_queues
    assert.deepEqual(await celeryJson(setup, "inspect", ["ping"], node), {
      [node]: { ok: "pong" },
    });
    const registered = await celeryJson(setup, "inspect", ["registered"], node) as Record<
      string,
      string[]
    >;
    assert.ok(registered[node].includes("interop.add"), JSON.stringify(registered));
    const stats = await celeryJson(setup, "inspect", ["stats"], node) as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(stats[node].pid, worker.pid);
    assert.equal((stats[node].pool as Record<string, unknown>)["max-concurrency"], 2);
    assert.equal(typeof stats[node].clock, "string");
    const queues = await celeryJson(setup, "inspect", ["active_queues"], node) as Record<
      string,
      { name: string }[]
    >;
    assert.deepEqual(queues[node].map((q) => q.name), [setup.config.task_default_queue]);

    // Tasks: one succeeds, one fails, one runs long enough to be seen by `inspect active`.
    const ok = await client.sendTask("interop.add", [1, 2], { taskId: ids.ok });
    const failed = await client.sendTask("interop.fail", ["boom"], { taskId: ids.fail });
    await client.sendTask("interop.sleep", [3], { taskId: ids.slow });
    assert.equal(await ok.get({ timeout: 20 }), 3);
    await failed.get({ timeout: 20, propagate: false });
    const active = await eventually("interop.sleep in celery inspect active", async () => {
      const replies = await celeryJson(setup, "inspect", ["active"], node) as Record<
        string,
        { id: string; name: string; args: unknown; hostname: string }[]
      >;
      return replies[node].find((request) => request.id === ids.slow);
    });
    assert.equal(active.name, "interop.sleep");
    assert.deepEqual(active.args, [3]);
    assert.equal(active.hostname, node);

    // celery control revoke of a countdown task: never run, REVOKED. The countdown leaves room for
    // the four `celery inspect`/`control` runs below (each starts a Python interpreter, ~1-2 s on
    // a loaded machine) to happen before it is due.
    const later = await client.sendTask("interop.add", [5, 5], {
      taskId: ids.revoked,
      countdown: 12,
    });
    const held = await eventually(
      "celery inspect scheduled to list the countdown task",
      async () => {
        const replies = await celeryJson(setup, "inspect", ["scheduled"], node) as Record<
          string,
          { eta: string; request: { id: string; name: string } }[]
        >;
        return replies[node].find((entry) => entry.request.id === ids.revoked);
      },
    );
    assert.equal(held.request.name, "interop.add");
    assert.match(held.eta, /^\d{4}-\d\d-\d\dT/);
    const queried = await celeryJson(setup, "inspect", ["query_task", ids.revoked], node) as Record<
      string,
      Record<string, [string, { id: string }]>
    >;
    assert.equal(queried[node][ids.revoked][0], "reserved");
    const revoked = await celeryJson(setup, "control", ["revoke", ids.revoked], node);
    assert.deepEqual(revoked, [{ [node]: { ok: `tasks ${ids.revoked} flagged as revoked` } }]);
    assert.deepEqual(await celeryJson(setup, "inspect", ["revoked"], node), {
      [node]: [ids.revoked],
    });
    const conf = await celeryJson(setup, "inspect", ["conf"], node) as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(conf[node].task_default_queue, setup.config.task_default_queue);
    const error = await later.get({ timeout: 20, propagate: false });
    assert.equal(await later.state(), "REVOKED", String(error));
    assert.equal(await capture.finished(), 0, "Python's receiver did not see every wanted event");
    assert.ok(!worker.stderr.includes(`[${ids.revoked}] succeeded`), "the revoked task ran");

    // A Python worker starting now learns the revoked id from the celeriac worker (mingle).
    {
      const newcomer = `${uniqueName("evctl-mingle")}@${Deno.hostname()}`;
      await using python = await startPythonWorker({
        env: pythonEnv(setup),
        hostname: newcomer,
        mingle: true,
        concurrency: 1,
      });
      assert.match(python.log, /mingle: sync with 1 nodes/);
      const learned = await celeryJson(setup, "inspect", ["revoked"], newcomer) as Record<
        string,
        string[]
      >;
      assert.ok(learned[newcomer].includes(ids.revoked), JSON.stringify(learned));
    }

    // Fields, as Python's receiver decoded them.
    const heartbeat = capture.find("worker-heartbeat", "hostname", node)!;
    for (const field of ["timestamp", "utcoffset", "pid", "clock", "freq", "active", "processed"]) {
      assert.equal(typeof heartbeat[field], "number", `heartbeat.${field}`);
    }
    assert.equal(heartbeat.sw_ident, "celeriac");
    const received = capture.find("task-received", "uuid", ids.ok)!;
    assert.equal(received.name, "interop.add");
    assert.equal(received.args, "(1, 2)");
    assert.equal(received.hostname, node);
    assert.ok(capture.find("task-started", "uuid", ids.ok));
    const succeeded = capture.find("task-succeeded", "uuid", ids.ok)!;
    assert.equal(succeeded.result, "3");
    assert.equal(typeof succeeded.runtime, "number");
    assert.ok(
      (received.clock as number) < (succeeded.clock as number),
      "Lamport clock moves forward",
    );
    const failure = capture.find("task-failed", "uuid", ids.fail)!;
    assert.match(String(failure.exception), /ValueError/);
    assert.match(String(failure.traceback), /boom/);
    const revokedEvent = capture.find("task-revoked", "uuid", ids.revoked)!;
    assert.equal(revokedEvent.expired, false);
    assert.equal(revokedEvent.terminated, false);
    assert.equal(capture.find("task-received", "uuid", ids.revoked)?.type, "task-received");
  } finally {
    capture.kill();
    await capture.finished().catch(() => 0);
  }
}

/**
 * celeriac's client against a Python worker with `-E`: inspect, events into
 * a `State`, and a revoke of a countdown task.
 */
export async function celeriacSeesPythonWorker(setup: EventsControlSetup): Promise<void> {
  const name = uniqueName("evctl-py");
  const node = `${name}@${Deno.hostname()}`;
  await using client = clientApp(setup);
  const stop = new AbortController();
  const state = new State();
  const seen: CeleryEvent[] = [];
  const reading = (async () => {
    for await (const event of client.events({ signal: stop.signal })) {
      seen.push(event);
      state.event(event);
    }
  })();
  try {
    await using _worker = await startPythonWorker({
      env: pythonEnv(setup),
      hostname: `${name}@%h`,
      heartbeat: true,
      args: ["-E"],
      pool: "prefork",
      concurrency: 1,
    });
    // On Redis a Python worker subscribes to its pidbox channel in its event loop, just after
    // "ready.": a request published before that is not heard, so the first ping is retried.
    const ping = await eventually(
      "the Python worker to answer ping",
      () =>
        client.control.inspect({ destination: [node], timeout: 1 }).ping().then((r) =>
          r ?? undefined
        ),
    );
    assert.deepEqual(ping, { [node]: { ok: "pong" } });
    const registered = await client.control.inspect({ destination: node, timeout: 3 }).registered();
    assert.ok(registered?.[node].includes("interop.add"));
    const stats = await client.control.inspect({ destination: [node], timeout: 3 }).stats();
    assert.equal(typeof stats?.[node].pid, "number");
    const queues = await client.control.inspect({ destination: [node], timeout: 3 })
      .activeQueues();
    assert.equal(queues?.[node][0].name, setup.config.task_default_queue);
    assert.deepEqual(await client.control.ping({ destination: [node], timeout: 3 }), [
      { [node]: { ok: "pong" } },
    ]);

    const ok = await client.sendTask("interop.add", [2, 3]);
    assert.equal(await ok.get({ timeout: 20 }), 5);
    const task = await eventually(
      "task-succeeded from the Python worker in the State",
      () => state.tasks.get(ok.id)?.state === "SUCCESS" ? state.tasks.get(ok.id) : undefined,
    );
    assert.equal(task.name, "interop.add");
    assert.equal(task.result, "5");
    assert.equal(task.worker, node);
    await eventually(
      "the Python worker alive in the State",
      () => state.aliveWorkers().find((worker) => worker.hostname === node),
    );

    const later = await client.sendTask("interop.add", [1, 1], { countdown: 8 });
    await eventually("the countdown task held by the Python worker", async () => {
      const held = await client.control.inspect({ destination: [node], timeout: 2 }).scheduled();
      return held?.[node]?.some((entry) => entry.request.id === later.id) || undefined;
    });
    const replies = await later.revoke({ reply: true, timeout: 3 }).then(() =>
      client.control.inspect({ destination: [node], timeout: 3 }).revoked()
    );
    assert.ok(replies?.[node].includes(later.id));
    await later.get({ timeout: 20, propagate: false });
    assert.equal(await later.state(), "REVOKED");
    await eventually(
      "task-revoked from the Python worker",
      () => seen.find((event) => event.type === "task-revoked" && event.uuid === later.id),
    );

    // A celeriac worker starting now learns the revoked id from the Python worker (mingle).
    const newcomer = await client.worker({
      pool: "async",
      concurrency: 1,
      banner: false,
      mingle: true,
      hostname: `${uniqueName("evctl-mingle")}@test`,
    });
    try {
      const learned = await client.control.inspect({ destination: newcomer.hostname }).revoked();
      assert.ok(learned?.[newcomer.hostname].includes(later.id), JSON.stringify(learned));
    } finally {
      await newcomer.stop();
    }

    // task-sent from a celeriac client with task_send_sent_event.
    client.conf.task_send_sent_event = true;
    const traced = await client.sendTask("interop.add", [7, 8]);
    const sent = await eventually(
      "task-sent from the celeriac client",
      () => seen.find((event) => event.type === "task-sent" && event.uuid === traced.id),
    );
    assert.equal(sent.name, "interop.add");
    assert.equal(sent.args, "(7, 8)");
    assert.match(sent.hostname, /^gen\d+@/);
    assert.equal(await traced.get({ timeout: 20 }), 15);
  } finally {
    stop.abort();
    await reading;
  }
}
