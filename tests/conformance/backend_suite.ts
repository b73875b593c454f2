/**
 * The result backend conformance suite: the behaviour every ResultBackend
 * adapter must show. What is asserted about cross-process reads and
 * `forget()` follows the adapter's `capabilities` constant.
 *
 * ```ts ignore
 * backendConformance("memory", MEMORY_BACKEND_CAPABILITIES, () =>
 *   createResultBackend(`memory://${uniqueName("m")}`, DEFAULT_SETTINGS));
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BackendCapabilities, ResultBackend, ResultMeta } from "../../src/backend/types.ts";
import { TimeoutError } from "../../src/errors.ts";
import { sleep } from "./suite_tools.ts";

/** Options of `backendConformance`. */
export interface BackendConformanceOptions {
  /** Skip every test (for example when the service does not answer). */
  ignore?: boolean;
  /** Deno's resource sanitizer (default true). */
  sanitizeResources?: boolean;
  /** Deno's async-op sanitizer (default true). */
  sanitizeOps?: boolean;
}

/** A result document as the worker stores it for `status`. */
export function resultDoc(taskId: string, status: string, result: unknown): ResultMeta {
  const ready = status === "SUCCESS" || status === "FAILURE" || status === "REVOKED";
  return {
    status,
    result,
    traceback: status === "FAILURE" ? 'Traceback (most recent call last):\n  File "t.py"\n' : null,
    children: [],
    date_done: ready ? "2026-01-02T03:04:05.678901" : null,
    task_id: taskId,
  };
}

/** Stores `meta` the way a worker does: prepare (client side) first, then store on the reply route. */
async function storeAsWorker(client: ResultBackend, worker: ResultBackend, meta: ResultMeta) {
  const replyTo = await client.prepare(meta.task_id);
  await worker.store(meta, { replyTo, correlationId: meta.task_id });
}

type BackendTestBody = (open: () => Promise<ResultBackend>) => Promise<void>;

/** Registers a test; `needs` names a capability the backend must declare, or it is ignored. */
type DefineBackendTest = (
  name: string,
  body: BackendTestBody,
  needs?: (capabilities: BackendCapabilities) => boolean,
) => void;

/** Registers every result backend conformance test for one adapter. */
export function backendConformance(
  adapterName: string,
  capabilities: BackendCapabilities,
  open: () => Promise<ResultBackend>,
  options: BackendConformanceOptions = {},
): void {
  const define: DefineBackendTest = (name, body, needs) => {
    Deno.test({
      name: `${adapterName} backend conformance: ${name}`,
      ignore: (options.ignore ?? false) || (needs !== undefined && !needs(capabilities)),
      sanitizeResources: options.sanitizeResources ?? true,
      sanitizeOps: options.sanitizeOps ?? true,
      fn: async () => {
        const opened: ResultBackend[] = [];
        try {
          await body(async () => {
            const backend = await open();
            opened.push(backend);
            return backend;
          });
        } finally {
          for (const backend of opened) await backend.close();
        }
      },
    });
  };
  registerStorageTests(define);
  registerWaitTests(define);
  define("the opened backend declares the capabilities the suite was given", async (open) => {
    const backend = await open();
    assert.deepEqual({ ...backend.capabilities }, { ...capabilities });
  });
}

function registerStorageTests(define: DefineBackendTest): void {
  define("store/read round trip of SUCCESS, FAILURE, STARTED and custom states", async (open) => {
    const backend = await open();
    const id = () => crypto.randomUUID();
    const success = { ...resultDoc(id(), "SUCCESS", { sum: [4, "✓", null, 1.5] }), name: "t.add" };
    Object.assign(success, { args: [2, 2], kwargs: { k: "v" }, worker: "w@h", retries: 0 });
    Object.assign(success, { queue: "celery", group_id: id(), parent_id: null });
    const failure = resultDoc(id(), "FAILURE", {
      exc_type: "ValueError",
      exc_message: ["bad value", 42],
      exc_module: "builtins",
    });
    const started = resultDoc(id(), "STARTED", { pid: 1234, hostname: "celery@host" });
    const progress = resultDoc(id(), "PROGRESS", { current: 3, total: 10 });
    for (const meta of [success, failure, started, progress]) {
      await storeAsWorker(backend, backend, meta);
      assert.deepEqual(await backend.read(meta.task_id), meta, `${meta.status} round trip`);
      if (backend.capabilities.rereadable) {
        assert.deepEqual(await backend.read(meta.task_id), meta, `${meta.status} re-read`);
      }
    }
  });

  define("read of an unknown task id is undefined", async (open) => {
    const backend = await open();
    assert.equal(await backend.read(crypto.randomUUID()), undefined);
  });

  define(
    "a later state replaces an earlier one, but SUCCESS is never overwritten",
    async (open) => {
      const backend = await open();
      const taskId = crypto.randomUUID();
      await storeAsWorker(backend, backend, resultDoc(taskId, "STARTED", { pid: 1 }));
      const success = resultDoc(taskId, "SUCCESS", 42);
      await storeAsWorker(backend, backend, success);
      assert.deepEqual(await backend.read(taskId), success);
      await storeAsWorker(backend, backend, resultDoc(taskId, "STARTED", { pid: 2 }));
      await storeAsWorker(backend, backend, resultDoc(taskId, "FAILURE", { exc_type: "X" }));
      assert.deepEqual(await backend.read(taskId), success);
    },
  );

  define("forget() deletes a stored result (when capabilities.forget)", async (open) => {
    const backend = await open();
    const taskId = crypto.randomUUID();
    await storeAsWorker(backend, backend, resultDoc(taskId, "SUCCESS", "x"));
    await backend.forget(taskId);
    assert.equal(await backend.read(taskId), undefined);
    await backend.forget(crypto.randomUUID()); // forgetting an unknown id is fine
  }, (capabilities) => capabilities.forget);

  define("forget() without capabilities.forget fails as Celery's, naming it", async (open) => {
    const backend = await open();
    await assert.rejects(backend.forget(crypto.randomUUID()), (error: Error) => {
      assert.equal(error.name, "NotImplementedError");
      assert.match(error.message, /backend does not implement forget/);
      return true;
    });
  }, (capabilities) => !capabilities.forget);

  define("another instance reads stored results (when capabilities.crossProcess)", async (open) => {
    const [client, worker] = [await open(), await open()];
    const meta = resultDoc(crypto.randomUUID(), "SUCCESS", [1, 2, 3]);
    await storeAsWorker(client, worker, meta);
    assert.deepEqual(await client.waitFor(meta.task_id, { intervalMs: 20, timeoutMs: 5000 }), meta);
    if (client.capabilities.rereadable) assert.deepEqual(await client.read(meta.task_id), meta);
  }, (capabilities) => capabilities.crossProcess);
}

function registerWaitTests(define: DefineBackendTest): void {
  define("waitFor resolves on a ready state stored later, ignoring STARTED", async (open) => {
    const backend = await open();
    const taskId = crypto.randomUUID();
    const replyTo = await backend.prepare(taskId);
    const waiting = backend.waitFor(taskId, { intervalMs: 20, timeoutMs: 5000 });
    await sleep(150);
    await backend.store(resultDoc(taskId, "STARTED", { pid: 7 }), {
      replyTo,
      correlationId: taskId,
    });
    await sleep(150);
    const failure = resultDoc(taskId, "FAILURE", { exc_type: "KeyError", exc_message: ["k"] });
    await backend.store(failure, { replyTo, correlationId: taskId });
    assert.deepEqual(await waiting, failure);
  });

  define("waitFor resolves on a state stored by another instance (crossProcess)", async (open) => {
    const [client, worker] = [await open(), await open()];
    const taskId = crypto.randomUUID();
    const replyTo = await client.prepare(taskId);
    const started = Date.now();
    const waiting = client.waitFor(taskId, { intervalMs: 50, timeoutMs: 5000 });
    await sleep(200);
    const success = resultDoc(taskId, "SUCCESS", "done");
    await worker.store(success, { replyTo, correlationId: taskId });
    assert.deepEqual(await waiting, success);
    assert.ok(Date.now() - started < 2000, "waitFor took far longer than its interval");
  }, (capabilities) => capabilities.crossProcess);

  define("waitFor on an already stored ready state resolves at once", async (open) => {
    const backend = await open();
    const success = resultDoc(crypto.randomUUID(), "SUCCESS", null);
    await storeAsWorker(backend, backend, success);
    const started = Date.now();
    assert.deepEqual(await backend.waitFor(success.task_id, { intervalMs: 500 }), success);
    assert.ok(Date.now() - started < 400, "waitFor waited although the result was ready");
  });

  define("waitFor times out with TimeoutError, also when only STARTED is stored", async (open) => {
    const backend = await open();
    const neverStored = crypto.randomUUID();
    await backend.prepare(neverStored);
    const started = Date.now();
    await assert.rejects(
      backend.waitFor(neverStored, { intervalMs: 20, timeoutMs: 300 }),
      TimeoutError,
    );
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 3000, `timed out after ${took} ms, expected about 300`);
    const onlyStarted = resultDoc(crypto.randomUUID(), "STARTED", { pid: 3 });
    await storeAsWorker(backend, backend, onlyStarted);
    await assert.rejects(
      backend.waitFor(onlyStarted.task_id, { intervalMs: 20, timeoutMs: 300 }),
      TimeoutError,
    );
  });

  define("waitFor stops with the signal's reason when aborted", async (open) => {
    const backend = await open();
    const taskId = crypto.randomUUID();
    await backend.prepare(taskId);
    const controller = new AbortController();
    const reason = new Error("no longer interested");
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    await assert.rejects(
      backend.waitFor(taskId, { intervalMs: 20, timeoutMs: 5000, signal: controller.signal }),
      (error) => error === reason,
    );
    assert.ok(Date.now() - started < 2000, "abort did not stop waiting promptly");
  });
}
