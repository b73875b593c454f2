/**
 * What the benchmark ran on: date, CPU, memory, load, and the versions of
 * Deno, RabbitMQ, Redis and Python Celery, for the header of the results.
 *
 * @module
 */

import { Redis } from "ioredis";
import { connect } from "../src/transports/amqp/amqplib.ts";
import { AMQP_URL, REDIS_URL } from "./setups.ts";

/** One-minute load average. */
export function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return Deno.loadavg()[0];
  }
}

function cpuModel(): string {
  try {
    const text = Deno.readTextFileSync("/proc/cpuinfo");
    return text.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

async function rabbitVersion(): Promise<string> {
  try {
    const model = await connect(AMQP_URL);
    const version = String(
      (model.connection as unknown as { serverProperties?: Record<string, unknown> })
        .serverProperties?.version ?? "?",
    );
    await model.close();
    return version;
  } catch {
    return "not reachable";
  }
}

async function redisVersion(): Promise<string> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return (await redis.info("server")).match(/redis_version:(\S+)/)?.[1] ?? "?";
  } catch {
    return "not reachable";
  } finally {
    redis.disconnect();
  }
}

async function pythonCelery(python: string): Promise<string> {
  try {
    const out = await new Deno.Command(python, {
      args: ["-c", "import celery, kombu; print(celery.__version__, kombu.__version__)"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const [celery, kombu] = new TextDecoder().decode(out.stdout).trim().split(" ");
    return `Celery ${celery} (kombu ${kombu})`;
  } catch {
    return "not found";
  }
}

/** A one-paragraph description of the machine and software. */
export async function describeMachine(python: string): Promise<string> {
  const memory = Deno.systemMemoryInfo();
  return [
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    `${cpuModel()}, ${navigator.hardwareConcurrency} cores, ${
      Math.round(memory.total / 2 ** 30)
    } GiB RAM, ${Deno.build.os} ${Deno.osRelease()}`,
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
    `RabbitMQ ${await rabbitVersion()}`,
    `Redis ${await redisVersion()}`,
    `Python ${await pythonCelery(python)}`,
  ].join("; ");
}
