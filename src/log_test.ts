import assert from "node:assert/strict";
import { getLogger, setupLogging, stopLogging } from "./log.ts";

Deno.test("isEnabledFor follows the configured level", async () => {
  const logger = getLogger("test");
  try {
    await setupLogging({ level: "WARNING" });
    assert.equal(logger.isEnabledFor("INFO"), false);
    assert.equal(logger.isEnabledFor("DEBUG"), false);
    assert.equal(logger.isEnabledFor("WARNING"), true);
    assert.equal(logger.isEnabledFor("CRITICAL"), true);
    await setupLogging({ level: "DEBUG" });
    assert.equal(logger.isEnabledFor("DEBUG"), true);
  } finally {
    await stopLogging();
  }
  // Not set up: LogTape decides, so nothing is filtered here.
  assert.equal(logger.isEnabledFor("DEBUG"), true);
});
