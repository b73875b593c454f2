import assert from "node:assert/strict";
import { ConfigurationError } from "../../errors.ts";
import { parseTransportOptions } from "./options.ts";

Deno.test("transport options: kombu defaults, overrides, unknown options ignored", () => {
  const defaults = parseTransportOptions({});
  assert.equal(defaults.visibilityTimeout, 3600);
  assert.deepEqual(defaults.prioritySteps, [0, 3, 6, 9]);
  assert.equal(defaults.unackedMutexExpire, 300);
  const custom = parseTransportOptions({
    visibility_timeout: 43200,
    priority_steps: [0, 1, 2],
    master_name: "mymaster",
    sentinel_kwargs: { password: "s" },
    confirm_publish: true,
  });
  assert.equal(custom.visibilityTimeout, 43200);
  assert.deepEqual(custom.prioritySteps, [0, 1, 2]);
  assert.equal(custom.masterName, "mymaster");
  assert.equal(custom.sentinelPassword, "s");
});

Deno.test("transport options: a bad value names the setting, the key and what is accepted", () => {
  assert.throws(
    () => parseTransportOptions({ visibility_timeout: "1h" }),
    (error: Error) =>
      error instanceof ConfigurationError &&
      error.message.includes(`broker_transport_options["visibility_timeout"]: "1h"`) &&
      error.message.includes("a number greater than 0"),
  );
  assert.throws(() => parseTransportOptions({ priority_steps: [3, 0] }), ConfigurationError);
  assert.throws(
    () =>
      parseTransportOptions({ queue_order_strategy: "random" }, "result_backend_transport_options"),
    /result_backend_transport_options\["queue_order_strategy"\]/,
  );
});
