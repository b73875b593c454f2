/**
 * How cost grows: celeriac's drain with payloads of 100 B, 10 KB and 1 MB,
 * and with 10, 1,000 and 100,000 queued tasks (100,000 in full mode only),
 * on each broker. Throughput and RSS should stay flat per task.
 *
 * @module
 */

import { formatNumber as num } from "./report.ts";
import { drainOnce } from "./session.ts";
import type { Setup } from "./setups.ts";
import { rate } from "./stats.ts";
import { CELERIAC } from "./systems.ts";

interface Case {
  /** Row label. */
  label: string;
  /** Queued tasks. */
  count: number;
  /** Bytes of payload per task (0: none). */
  payload: number;
}

function cases(quick: boolean): Case[] {
  return [
    { label: "100 B payload", count: quick ? 2_000 : 10_000, payload: 100 },
    { label: "10 KB payload", count: quick ? 2_000 : 10_000, payload: 10_000 },
    { label: "1 MB payload", count: quick ? 20 : 200, payload: 1_000_000 },
    { label: "10 queued", count: 10, payload: 0 },
    { label: "1,000 queued", count: 1_000, payload: 0 },
    ...(quick ? [] : [{ label: "100,000 queued", count: 100_000, payload: 0 }]),
  ];
}

/** The growth table for each broker among `setups` (one setup per broker kind). */
export async function growthTables(
  setups: readonly Setup[],
  quick: boolean,
  log: (text: string) => void,
): Promise<string> {
  const seen = new Set<string>();
  const out = ["### How cost grows (celeriac, drain, one run each)\n"];
  for (const setup of setups) {
    if (seen.has(setup.broker)) continue;
    seen.add(setup.broker);
    const lines = [
      `${setup.label}:\n`,
      "| case | tasks | drain (tasks/s) | µs per task | worker CPU µs per task | " +
      "MB/s of payload | peak RSS (MB) |",
      "|---|--:|--:|--:|--:|--:|--:|",
    ];
    for (const item of cases(quick)) {
      log(`growth ${setup.id}: ${item.label}`);
      try {
        const payload = item.payload ? "x".repeat(item.payload) : undefined;
        const { drainMs, peakKb, drainCpuUs } = await drainOnce(
          CELERIAC,
          setup,
          item.count,
          payload,
        );
        const perSecond = rate(item.count - 1, drainMs);
        lines.push(
          `| ${item.label} | ${num(item.count)} | ${num(perSecond)} | ${
            num(1e6 / perSecond, 1)
          } | ${num(drainCpuUs, 1)} | ${num((perSecond * item.payload) / 1e6, 1)} | ${
            num(peakKb / 1024)
          } |`,
        );
      } catch (error) {
        lines.push(
          `| ${item.label} | ${num(item.count)} | failed: ${(error as Error).message} |||`,
        );
      }
    }
    out.push(lines.join("\n") + "\n");
  }
  return out.join("\n");
}
