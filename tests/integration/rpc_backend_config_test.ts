/**
 * `rpc://` results travel over the broker, so they need a RabbitMQ broker:
 * with no broker configured (celeriac's default broker is the embedded
 * SQLite file, not Celery's `amqp://localhost`) or with another broker, the
 * result backend is refused with a ConfigurationError that says why,
 * before anything connects. Needs no service.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { ConfigurationError } from "../../src/errors.ts";

const environmentSetsBroker = Deno.env.get("CELERY_BROKER_URL") !== undefined;

Deno.test({
  name: "rpc:// with no broker configured is refused: the broker is then the embedded file",
  ignore: environmentSetsBroker,
  fn: async () => {
    const app = new Celery("rpcconf", { backend: "rpc://", setAsCurrent: false });
    try {
      await assert.rejects(
        () => app.getBackend(),
        (error: Error) =>
          error instanceof ConfigurationError && /must be RabbitMQ/.test(error.message) &&
          /sqlite:\/\//.test(error.message),
      );
    } finally {
      await app.close();
    }
  },
});

Deno.test({
  name: "rpc:// with a Redis or SQLite broker is refused, naming the broker",
  ignore: environmentSetsBroker,
  fn: async () => {
    for (const broker of ["redis://:secret@127.0.0.1:1/0", "sqlite:///tmp/never-opened.sqlite3"]) {
      const app = new Celery("rpcconf", { broker, backend: "rpc://", setAsCurrent: false });
      try {
        await assert.rejects(
          () => app.getBackend(),
          (error: Error) =>
            error instanceof ConfigurationError && /must be RabbitMQ/.test(error.message) &&
            error.message.includes(broker.split("://")[0]) && !error.message.includes("secret"),
        );
      } finally {
        await app.close();
      }
    }
  },
});
