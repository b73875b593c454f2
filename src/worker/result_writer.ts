/**
 * Writing task states to the result backend from the worker: the document
 * context of a call (ids, and the extended fields when `result_extended`),
 * and a store that never throws. A value that cannot be encoded is stored as
 * a FAILURE saying so.
 *
 * @module
 */

import { taskLabel } from "./log_lines.ts";
import type { ResultBackend, ResultMeta } from "../backend/types.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import type { Logger } from "../log.ts";
import { encodeException, formatTraceback } from "../protocol/exceptions.ts";
import { buildResultMeta, type ResultContext } from "../protocol/result_meta.ts";
import type { TaskCall } from "../protocol/task_message.ts";

/** Stores the states of this worker's tasks. */
export class ResultWriter {
  readonly #backend: ResultBackend | undefined;
  readonly #config: ResolvedConfig;
  readonly #hostname: string;
  readonly #logger: Logger;

  /** Creates a writer; without a backend, storing does nothing. */
  constructor(
    backend: ResultBackend | undefined,
    config: ResolvedConfig,
    hostname: string,
    logger: Logger,
  ) {
    this.#backend = backend;
    this.#config = config;
    this.#hostname = hostname;
    this.#logger = logger;
  }

  /** The ids (and extended fields) of `call`'s result documents. */
  context(call: TaskCall, queue = ""): ResultContext {
    const context: ResultContext = {
      taskId: call.id,
      groupId: call.group,
      parentId: call.parentId,
    };
    if (this.#config.result_extended) {
      context.extended = {
        name: call.task,
        args: call.args,
        kwargs: call.kwargs,
        worker: this.#hostname,
        retries: call.retries,
        queue,
      };
    }
    return context;
  }

  /**
   * Stores a result document. Returns false when it could not be stored; a
   * SUCCESS that cannot be encoded is replaced by a FAILURE saying why.
   */
  async store(call: TaskCall, meta: ResultMeta): Promise<boolean> {
    const backend = this.#backend;
    if (!backend) return true;
    const route = { replyTo: call.replyTo, correlationId: call.correlationId };
    try {
      await backend.store(meta, route);
      return true;
    } catch (error) {
      this.#logger.error(
        `Cannot store the ${meta.status} result of ${taskLabel(call.task, call.id)}: ${error}`,
      );
      if (meta.status !== "SUCCESS") return false;
      const failure = buildResultMeta(
        this.context(call),
        "FAILURE",
        encodeException(error),
        formatTraceback(error),
      );
      await backend.store(failure, route).catch(() => {});
      return false;
    }
  }
}
