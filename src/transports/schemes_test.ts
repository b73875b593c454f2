import assert from "node:assert/strict";
import { createBroker } from "../broker/resolve.ts";
import { createResultBackend } from "../backend/resolve.ts";
import { createLease, leaseKindFor } from "../beat/leader_lease.ts";
import { DEFAULT_SETTINGS } from "../app/settings.ts";
import { ConfigurationError } from "../errors.ts";
import { defaultPort, schemeFor, SCHEMES, schemesFor } from "./schemes.ts";

Deno.test("every scheme resolves for the roles the table gives it, and only those", () => {
  for (const [scheme, entry] of Object.entries(SCHEMES)) {
    for (const role of ["broker", "backend", "lease"] as const) {
      const url = `${scheme}://host`;
      if (entry.roles.includes(role)) assert.equal(schemeFor(url, role), entry);
      else assert.throws(() => schemeFor(url, role), new RegExp(`"${scheme}" cannot be a`));
    }
  }
  assert.deepEqual(schemesFor("backend"), [
    "amqp",
    "rpc",
    "redis",
    "rediss",
    "sentinel",
    "sqlite",
    "memory",
  ]);
});

Deno.test("an unknown scheme gets the same error from broker, backend and lease resolution", async () => {
  const errors = await Promise.all([
    createBroker("kafka://h:9092", DEFAULT_SETTINGS).catch((e) => e),
    createResultBackend("kafka://h:9092", DEFAULT_SETTINGS).catch((e) => e),
    createLease("kafka://h:9092").catch((e) => e),
  ]);
  const roles = ["broker", "result backend", "beat leader lease"];
  errors.forEach((error, i) => {
    assert.ok(error instanceof ConfigurationError);
    assert.match(
      error.message,
      new RegExp(
        `^Unsupported ${roles[i]} URL "kafka://h:9092": unknown scheme "kafka"\\. Supported: `,
      ),
    );
  });
});

Deno.test("sentinel:// has a Redis lease; default ports come from the table", () => {
  assert.equal(leaseKindFor("sentinel://:pw@h1:26379;sentinel://h2"), "redis");
  assert.equal(leaseKindFor("pyamqp://h"), "amqp");
  assert.equal(leaseKindFor("memory://"), "local");
  assert.equal(leaseKindFor("rpc://"), undefined);
  assert.deepEqual(
    ["amqp", "amqps", "redis", "rediss", "sentinel", "sqlite"].map(defaultPort),
    [5672, 5671, 6379, 6379, 26379, undefined],
  );
});
