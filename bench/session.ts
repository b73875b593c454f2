/**
 * One measured run of one system (celeriac, a raw client loop, Python
 * Celery) on one setup, as BENCHMARKS.md describes:
 *
 * 1. fill the queue with N `bench.add` tasks (results ignored), no worker;
 * 2. start the worker; drain = first task start → N-th task start, both
 *    stamped inside the worker; start-up = spawn → first task start;
 * 3. round trip: N tasks with results, the worker warm (20 round trips first);
 * 4. latency: sequential send → result round trips, p50 / p99;
 * 5. stop the worker; its peak RSS (VmHWM summed over its processes);
 * 6. enqueue: a fresh queue, no worker, N sends until the broker counts N.
 *
 * @module
 */

import { CeleriacClient } from "./celeriac_client.ts";
import type { WatchedProcess } from "./process_watch.ts";
import { cleanPlace, newPlace, type RunPlace, type Setup } from "./setups.ts";
import { sleep } from "./stats.ts";

/** The client side of a system. */
export interface BenchClient {
  /** ms to send `count` tasks until the broker holds them. */
  enqueue(count: number): Promise<number>;
  /** ms from the first send to the last of `count` results. */
  roundTrip(count: number): Promise<number>;
  /** `count` sequential round trips, ms each. */
  latency(count: number): Promise<number[]>;
  /** Closes connections. */
  close(): Promise<void>;
}

/** First and N-th task start, wall-clock ms. */
export interface DrainStamps {
  /** First start. */
  first: number;
  /** N-th start. */
  last: number;
}

/** A worker process of a system. */
export interface StartedWorker {
  /** The process (memory, reports). */
  proc: WatchedProcess;
  /** Resolves with the stamps once `expect` tasks have started. */
  drained(expect: number): Promise<DrainStamps>;
  /** Resolves once the worker consumes (for resting memory). */
  ready(): Promise<void>;
}

/** Something measured: celeriac, a raw loop, or Python Celery. */
export interface System {
  /** `celeriac`, `raw` or `python`. */
  id: string;
  /** Row label for a setup. */
  label(setup: Setup): string;
  /** Whether it runs on this setup. */
  supports(setup: Setup): boolean;
  /** Starts its worker on `place`; `expect` tasks are queued. */
  start(place: RunPlace, expect: number): StartedWorker;
  /** Opens its client on `place`. */
  client(place: RunPlace): Promise<BenchClient>;
  /** What fills the queue before a drain, if not celeriac's client (whose messages the raw loops read too). */
  filler?(place: RunPlace): Filler;
}

/** Puts `count` tasks (results ignored) on a run's queue before its worker starts. */
export interface Filler {
  /** Sends them. */
  fill(count: number): Promise<unknown>;
  /** Closes connections. */
  close(): Promise<void>;
}

function fillerOf(system: System, place: RunPlace, payload?: string): Filler {
  return system.filler?.(place) ?? new CeleriacClient(place, payload);
}

/** Sizes of a run. */
export interface RunSizes {
  /** Tasks for drain, round trip and enqueue. */
  count: number;
  /** Sequential round trips for latency. */
  latencyCount: number;
}

/** What one run measured. */
export interface RunFigures {
  /** Drain time (ms). */
  drainMs: number;
  /** Spawn → first task start (ms). */
  startupMs: number;
  /** Round trip time (ms). */
  roundTripMs: number;
  /** Latency samples (ms). */
  latency: number[];
  /** Enqueue time (ms). */
  enqueueMs: number;
  /** Peak RSS of the worker (kB). */
  peakKb: number;
  /** Worker CPU time (user + system, all its processes) per drained task (µs). */
  drainCpuUs: number;
}

/** Longest any one step of a run may take: a system that hangs fails its run, not the bench. */
const STEP_TIMEOUT_MS = 180_000;

/** Waits for `step`; throws naming `what` if it takes longer than STEP_TIMEOUT_MS. */
async function within<T>(what: string, step: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish in ${STEP_TIMEOUT_MS / 1000} s`)),
      STEP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([step, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the six steps once, each within STEP_TIMEOUT_MS; cleans up whatever happens. */
export async function runOnce(system: System, setup: Setup, sizes: RunSizes): Promise<RunFigures> {
  const place = newPlace(setup);
  let worker: StartedWorker | undefined;
  try {
    const filler = fillerOf(system, place);
    await within("filling the queue", filler.fill(sizes.count));
    await filler.close();
    const spawnedAt = performance.timeOrigin + performance.now();
    worker = system.start(place, sizes.count);
    const stamps = await within("the drain", worker.drained(sizes.count));
    const drainCpuUs = ((worker.proc.cpuMs() - worker.proc.cpuAtReady) * 1000) / sizes.count;
    const client = await system.client(place);
    let roundTripMs: number;
    let latency: number[];
    try {
      roundTripMs = await within("the round trip", client.roundTrip(sizes.count));
      latency = await within("the latency samples", client.latency(sizes.latencyCount));
    } finally {
      await client.close();
    }
    worker.proc.sample();
    await worker.proc.stop();
    const peakKb = worker.proc.peakKb;
    worker = undefined;
    return {
      drainMs: stamps.last - stamps.first,
      startupMs: stamps.first - spawnedAt,
      roundTripMs,
      latency,
      enqueueMs: await within("the enqueue", enqueueOnce(system, setup, sizes.count)),
      peakKb,
      drainCpuUs,
    };
  } finally {
    await worker?.proc.stop();
    await cleanPlace(place);
  }
}

async function enqueueOnce(system: System, setup: Setup, count: number): Promise<number> {
  const place = newPlace(setup);
  try {
    const client = await system.client(place);
    try {
      return await client.enqueue(count);
    } finally {
      await client.close();
    }
  } finally {
    await cleanPlace(place);
  }
}

/** RSS (kB) of a fresh worker on an empty queue, `settleMs` after it is ready. */
export async function restingKb(system: System, setup: Setup, settleMs = 2000): Promise<number> {
  const place = newPlace(setup);
  const worker = system.start(place, 0);
  try {
    await worker.ready();
    await sleep(settleMs);
    return worker.proc.sample();
  } finally {
    await worker.proc.stop();
    await cleanPlace(place);
  }
}

/** What one drain-only run measured (the cost-growth table). */
export interface DrainFigures {
  /** Drain time (ms). */
  drainMs: number;
  /** Worker CPU per task (µs). */
  drainCpuUs: number;
  /** Peak RSS of the worker (kB). */
  peakKb: number;
}

/** Fills `count` tasks carrying `payload`, starts the worker, times the drain, stops. */
export async function drainOnce(
  system: System,
  setup: Setup,
  count: number,
  payload?: string,
): Promise<DrainFigures> {
  const place = newPlace(setup);
  let worker: StartedWorker | undefined;
  try {
    const filler = fillerOf(system, place, payload);
    await filler.fill(count);
    await filler.close();
    worker = system.start(place, count);
    const stamps = await worker.drained(count);
    const drainCpuUs = ((worker.proc.cpuMs() - worker.proc.cpuAtReady) * 1000) / count;
    worker.proc.sample();
    await worker.proc.stop();
    return { drainMs: stamps.last - stamps.first, peakKb: worker.proc.peakKb, drainCpuUs };
  } finally {
    await worker?.proc.stop();
    await cleanPlace(place);
  }
}
