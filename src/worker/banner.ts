/**
 * The worker's start-up banner, laid out like Celery 5.2.6's (spec §5.1).
 *
 * @module
 */

import type { QueueSpec } from "../broker/types.ts";
import { CODENAME, VERSION } from "../version.ts";

/** What the banner shows. */
export interface WorkerBannerInfo {
  /** Node name (`celery@host`). */
  hostname: string;
  /** `<main>:0x…`. */
  app: string;
  /** Broker URL, password already masked. */
  transport: string;
  /** Result backend URL, password already masked, or `disabled://`. */
  results: string;
  /** Where the embedded default keeps its data, when it is in use. */
  embeddedData?: string;
  /** Concurrency. */
  concurrency: number;
  /** Pool kind. */
  pool: string;
  /** Consumed queues. */
  queues: readonly QueueSpec[];
  /** Registered task names; shown when `showTasks`. */
  tasks: readonly string[];
  /** Show the `[tasks]` block (log level INFO or lower). */
  showTasks: boolean;
  /** Clock (default now). */
  now?: Date;
  /** Task events on (`-E`). */
  taskEvents?: boolean;
}

const ART = [
  " --------------",
  "--- ***** -----",
  "-- ******* ----",
  "- *** --- * ---",
  "- ** ----------",
  "- ** ----------",
  "- ** ----------",
  "- ** ----------",
  "- *** --- * ---",
  "-- ******* ----",
  "--- ***** -----",
  " --------------",
];

function localTime(now: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ` +
    `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
}

/**
 * The banner text (printed to stdout after a line holding one space).
 *
 * @example
 * ```ts
 * import { workerBanner } from "./banner.ts";
 * const text = workerBanner({
 *   hostname: "celery@vm", app: "proj:0x7f0001", transport: "memory://", results: "memory://",
 *   concurrency: 2, pool: "workers", queues: [], tasks: ["proj.add"], showTasks: true,
 * });
 * console.assert(text.includes(".> concurrency: 2 (workers)"));
 * ```
 */
export function workerBanner(info: WorkerBannerInfo): string {
  const now = info.now ?? new Date();
  const text = [
    `${info.hostname} v${VERSION} (${CODENAME})`,
    "",
    `Deno-${Deno.version.deno}-${Deno.build.os}-${Deno.build.arch} ${localTime(now)}`,
    "",
    "[config]",
    `.> app:         ${info.app}`,
    `.> transport:   ${info.transport}`,
    `.> results:     ${info.results}`,
    ...(info.embeddedData ? [`.> data:        ${info.embeddedData} (embedded default)`] : []),
    `.> concurrency: ${info.concurrency} (${info.pool})`,
    info.taskEvents
      ? ".> task events: ON"
      : ".> task events: OFF (enable -E to monitor tasks in this worker)",
    "",
    "[queues]",
    ...info.queues.map((queue) =>
      `.> ${queue.name.padEnd(16)} exchange=${queue.exchange}(${queue.exchangeType}) ` +
      `key=${queue.routingKey}`
    ),
  ];
  text.push("");
  const lines = text.map((line, index) =>
    index < ART.length ? `${ART[index]} ${line}` : `${" ".repeat(16)}${line}`.trimEnd()
  );
  if (info.showTasks) {
    lines.push("", "[tasks]");
    const names = [...info.tasks].filter((name) => !name.startsWith("celery.")).sort();
    for (const name of names) lines.push(`  . ${name}`);
  }
  return lines.join("\n") + "\n";
}
