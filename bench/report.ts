/**
 * Turns measured figures into the tables `deno task bench` prints and writes
 * to docs/benchmarks.md: one table per setup with celeriac, the raw client
 * loop and Python Celery side by side, and ratios.
 *
 * @module
 */

import { median, percentile, rate } from "./stats.ts";
import type { RunFigures } from "./session.ts";

/** Medians of a system's runs on a setup. */
export interface Row {
  /** System label. */
  label: string;
  /** System id. */
  system: string;
  /** Drain tasks/s. */
  drain: number;
  /** Round trip tasks/s. */
  roundTrip: number;
  /** Latency p50 (ms). */
  p50: number;
  /** Latency p99 (ms). */
  p99: number;
  /** Enqueue tasks/s. */
  enqueue: number;
  /** Peak RSS (MB). */
  peakMb: number;
  /** RSS of a fresh, idle worker (MB). */
  restMb: number;
  /** Spawn → first task (ms). */
  startupMs: number;
  /** Drain tasks/s of each run, for the record. */
  drainRuns: number[];
  /** Worker CPU per drained task (µs), all its processes and threads. */
  drainCpuUs: number;
}

/** Medians over runs (latency percentiles per run, then the median of those). */
export function summarise(
  system: string,
  label: string,
  runs: RunFigures[],
  count: number,
  restKb: number,
): Row {
  return {
    label,
    system,
    drain: median(runs.map((r) => rate(count, r.drainMs))),
    roundTrip: median(runs.map((r) => rate(count, r.roundTripMs))),
    p50: median(runs.map((r) => percentile(r.latency, 0.5))),
    p99: median(runs.map((r) => percentile(r.latency, 0.99))),
    enqueue: median(runs.map((r) => rate(count, r.enqueueMs))),
    peakMb: Math.max(...runs.map((r) => r.peakKb)) / 1024,
    restMb: restKb / 1024,
    startupMs: median(runs.map((r) => r.startupMs)),
    drainRuns: runs.map((r) => rate(count, r.drainMs)),
    drainCpuUs: median(runs.map((r) => r.drainCpuUs)),
  };
}

function num(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–";
}

const HEADER = "| system | drain (tasks/s) | round trip (tasks/s) | latency p50 / p99 (ms) | " +
  "enqueue (tasks/s) | peak RSS (MB) | RSS at rest (MB) | start-up (ms) | " +
  "worker CPU per drained task (µs) |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|";

/** A Markdown table for one setup, with `celeriac ÷ other` ratio rows. */
export function setupTable(rows: Row[]): string {
  const lines = [HEADER];
  for (const row of rows) {
    lines.push(
      `| ${row.label} | ${num(row.drain)} | ${num(row.roundTrip)} | ${num(row.p50, 2)} / ${
        num(row.p99, 2)
      } | ${num(row.enqueue)} | ${num(row.peakMb)} | ${num(row.restMb)} | ${num(row.startupMs)} | ${
        num(row.drainCpuUs)
      } |`,
    );
  }
  const celeriac = rows.find((row) => row.system === "celeriac");
  for (const other of rows.filter((row) => row.system !== "celeriac")) {
    if (!celeriac) break;
    lines.push(
      `| *celeriac ÷ ${other.label}* | ${ratio(celeriac.drain, other.drain)} | ${
        ratio(celeriac.roundTrip, other.roundTrip)
      } | ${ratio(celeriac.p50, other.p50)} / ${ratio(celeriac.p99, other.p99)} | ${
        ratio(celeriac.enqueue, other.enqueue)
      } | ${ratio(celeriac.peakMb, other.peakMb)} | ${ratio(celeriac.restMb, other.restMb)} | ${
        ratio(celeriac.startupMs, other.startupMs)
      } | ${ratio(celeriac.drainCpuUs, other.drainCpuUs)} |`,
    );
  }
  return lines.join("\n");
}

/** The issue's targets, checked against celeriac's row of a setup. */
export function targetLines(setupId: string, row: Row | undefined, raw?: Row): string[] {
  if (!row) return [];
  const check = (ok: boolean, text: string) => `- ${ok ? "met" : "NOT met"}: ${text}`;
  const rss = check(
    row.peakMb <= 120 && row.restMb <= 120,
    `worker RSS ≤ 120 MB (peak ${num(row.peakMb)} MB, at rest ${num(row.restMb)} MB)`,
  );
  if (setupId === "rabbitmq") {
    return [
      check(
        row.drain >= 15_000 && (!raw || row.drain >= 0.8 * raw.drain),
        `drain ≥ 15,000/s and ≥ 0.8 × raw (${num(row.drain)}/s${
          raw ? `, ${ratio(row.drain, raw.drain)} raw` : ""
        })`,
      ),
      check(row.roundTrip >= 6_000, `round trip ≥ 6,000/s (${num(row.roundTrip)}/s)`),
      check(row.p50 <= 1, `p50 ≤ 1 ms (${num(row.p50, 2)} ms)`),
      check(row.enqueue >= 15_000, `enqueue ≥ 15,000/s (${num(row.enqueue)}/s)`),
      rss,
    ];
  }
  if (setupId === "redis") {
    return [
      check(row.drain >= 15_000, `drain ≥ 15,000/s (${num(row.drain)}/s)`),
      check(row.roundTrip >= 8_000, `round trip ≥ 8,000/s (${num(row.roundTrip)}/s)`),
      check(row.p50 <= 0.8, `p50 ≤ 0.8 ms (${num(row.p50, 2)} ms)`),
      check(row.enqueue >= 25_000, `enqueue ≥ 25,000/s (${num(row.enqueue)}/s)`),
      rss,
    ];
  }
  return [rss];
}

export { num as formatNumber };
