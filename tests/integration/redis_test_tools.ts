/**
 * Test tools for the Redis integration and interop tests: a config with a
 * unique `global_keyprefix`, and a sweeper that deletes every key under a
 * prefix afterwards.
 *
 * @module
 */

import { Redis } from "ioredis";
import { DEFAULT_SETTINGS, type ResolvedConfig } from "../../src/app/settings.ts";
import { SERVICES, uniqueName } from "../services.ts";

/** The Redis URL tests use (`CELERIAC_TEST_REDIS_URL`, default db 0 on 127.0.0.1). */
export const REDIS_URL: string = SERVICES.redis;

/** A resolved config whose broker and backend keys live under a fresh prefix. */
export function redisTestConfig(
  prefix: string = `${uniqueName("celeriac-test")}:`,
  overrides: Partial<ResolvedConfig> = {},
): ResolvedConfig {
  const transport = { global_keyprefix: prefix };
  return Object.freeze({
    ...DEFAULT_SETTINGS,
    broker_transport_options: transport,
    result_backend_transport_options: transport,
    ...overrides,
  });
}

/** A raw ioredis client on the test database (close it with `quit()`). */
export function rawRedis(url: string = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
}

/** Deletes every key that starts with `prefix`; returns how many. */
export async function deleteKeysWithPrefix(
  prefix: string,
  url: string = REDIS_URL,
): Promise<number> {
  const redis = rawRedis(url);
  try {
    let cursor = "0";
    let deleted = 0;
    const pattern = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`) + "*";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    await redis.quit();
  }
}

/** Deletes `celery-task-meta-<id>` for every id (results of tests without a result prefix). */
export async function deleteResultKeys(ids: string[], url: string = REDIS_URL): Promise<void> {
  const redis = rawRedis(url);
  try {
    for (let i = 0; i < ids.length; i += 500) {
      await redis.del(...ids.slice(i, i + 500).map((id) => `celery-task-meta-${id}`));
    }
  } finally {
    await redis.quit();
  }
}
