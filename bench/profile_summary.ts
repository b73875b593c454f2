/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): the functions
 * with the most self time and the most inclusive time, and self time per
 * source file. Used to find where the worker's hot path spends its time.
 *
 * `deno run -A bench/profile_summary.ts <file.cpuprofile> [--top 30] [--skip-idle]`
 *
 * @module
 */

import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self and inclusive milliseconds per function, and self milliseconds per file. */
export interface ProfileSummary {
  /** Wall time covered by samples (ms). */
  totalMs: number;
  /** Samples in `(idle)`, `(program)` and `(garbage collector)` (ms). */
  special: Record<string, number>;
  /** `[function label, self ms]`, largest first. */
  self: [string, number][];
  /** `[function label, inclusive ms]`, largest first. */
  inclusive: [string, number][];
  /** `[file, self ms]`, largest first. */
  files: [string, number][];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules|npm|main)\//, "").replace(/^file:\/\//, "");
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

/** Reads a profile and adds up self and inclusive time. */
export function summarise(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  const special: Record<string, number> = {};
  let totalMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    if (name.startsWith("(") && node.callFrame.url === "") {
      special[name] = (special[name] ?? 0) + ms;
      return;
    }
    const own = label(node);
    self.set(own, (self.get(own) ?? 0) + ms);
    const file = node.callFrame.url.replace(/^.*\/(node_modules|main)\//, "") || "(native)";
    files.set(file, (files.get(file) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = label(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  });
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    totalMs,
    special,
    self: sorted(self),
    inclusive: sorted(inclusive),
    files: sorted(files),
  };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: { top: { type: "string", default: "30" } },
    allowPositionals: true,
  });
  const top = Number(values.top);
  for (const path of positionals) {
    const summary = summarise(JSON.parse(await Deno.readTextFile(path)));
    const busy = summary.totalMs - (summary.special["(idle)"] ?? 0);
    console.log(
      `\n== ${path}: ${summary.totalMs.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms busy`,
    );
    for (const [name, ms] of Object.entries(summary.special)) {
      console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
    }
    const print = (title: string, rows: [string, number][]) => {
      console.log(`-- ${title}`);
      for (const [name, ms] of rows.slice(0, top)) {
        console.log(
          `  ${ms.toFixed(0).padStart(7)} ms ${(100 * ms / busy).toFixed(1).padStart(5)}%  ${name}`,
        );
      }
    };
    print("self time by file", summary.files);
    print("self time", summary.self);
    print("inclusive time", summary.inclusive);
  }
}
