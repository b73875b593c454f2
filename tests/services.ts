/**
 * Finding the real services tests need. When a service does not answer, a
 * test is skipped with a clear reason, except under `CI=true`, where an
 * unreachable service is a failure.
 *
 * @module
 */

/** Addresses of the services on this machine (override with env vars). */
export const SERVICES = {
  rabbitmq: Deno.env.get("CELERIAC_TEST_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672//",
  redis: Deno.env.get("CELERIAC_TEST_REDIS_URL") ?? "redis://127.0.0.1:6379/0",
} as const;

const PORTS: Record<keyof typeof SERVICES, number> = { rabbitmq: 5672, redis: 6379 };

const answered = new Map<string, Promise<boolean>>();

async function answers(hostname: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** True when running under CI (`CI=true`): then missing services fail tests. */
export const IN_CI: boolean = Deno.env.get("CI") === "true";

/**
 * Whether a service answers. Under CI a missing service throws, so the test
 * fails with the reason; elsewhere it prints the reason and returns false.
 */
export function serviceAvailable(name: keyof typeof SERVICES): Promise<boolean> {
  const url = new URL(SERVICES[name].replace(/^(amqp|redis)/, "http"));
  const key = `${url.hostname}:${url.port || PORTS[name]}`;
  let check = answered.get(key);
  if (!check) {
    check = answers(url.hostname, Number(url.port || PORTS[name]));
    answered.set(key, check);
  }
  return check.then((ok) => {
    if (ok) return true;
    const reason = `${name} does not answer at ${key}`;
    if (IN_CI) throw new Error(`${reason}: CI=true, so this is a failure, not a skip.`);
    console.warn(`SKIPPED: ${reason}. Start it (see README, "Running the tests").`);
    return false;
  });
}

/** A name unique to this test run, for queues and key prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The Python interpreter that has Celery 5.2.6 (Debian's python3-celery). */
export const PYTHON: string = Deno.env.get("CELERIAC_TEST_PYTHON") ?? "/usr/bin/python3";
