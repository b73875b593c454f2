/**
 * Figures over time for the charts: per second, how many tasks succeeded
 * and failed, and the runtime percentiles, in total and per task name. A
 * ring of the last `seconds` seconds (bounded memory).
 *
 * @module
 */

/** One task name's figures in one second. */
export interface NameSecond {
  /** Tasks that succeeded. */
  succeeded: number;
  /** Tasks that failed. */
  failed: number;
  /** Runtime percentiles in seconds (50th, 90th, 99th), when some succeeded. */
  p50?: number;
  /** 90th percentile. */
  p90?: number;
  /** 99th percentile. */
  p99?: number;
}

/** One closed second: its Unix time, the totals and each name's figures. */
export interface ChartPoint extends NameSecond {
  /** Unix seconds. */
  t: number;
  /** Figures per task name. */
  names: Record<string, NameSecond>;
}

interface OpenSecond {
  t: number;
  succeeded: number;
  failed: number;
  runtimes: number[];
  names: Map<string, { succeeded: number; failed: number; runtimes: number[] }>;
}

/** The value below which `q` of the sorted values fall (nearest rank). */
export function percentile(sorted: number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Runtimes kept per second and name (a sample is enough for percentiles). */
const MAX_RUNTIMES = 2_000;

function close(open: { succeeded: number; failed: number; runtimes: number[] }): NameSecond {
  const sorted = open.runtimes.sort((a, b) => a - b);
  return {
    succeeded: open.succeeded,
    failed: open.failed,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
  };
}

/** Succeeded/failed per second and runtime percentiles, for the last `seconds` seconds. */
export class Charts {
  readonly #seconds: number;
  readonly #points: ChartPoint[] = [];
  #unread: ChartPoint[] = [];
  #open?: OpenSecond;

  /** Keeps `seconds` closed seconds (default 600). */
  constructor(seconds = 600) {
    this.#seconds = seconds;
  }

  /** Counts one finished task at `now` (Unix seconds). */
  record(name: string | undefined, succeeded: boolean, runtime?: number, now = Date.now() / 1000) {
    const t = Math.floor(now);
    this.closeBefore(t);
    this.#open ??= { t, succeeded: 0, failed: 0, runtimes: [], names: new Map() };
    const key = name ?? "?";
    let byName = this.#open.names.get(key);
    if (!byName) this.#open.names.set(key, byName = { succeeded: 0, failed: 0, runtimes: [] });
    for (const figures of [this.#open, byName]) {
      if (succeeded) figures.succeeded++;
      else figures.failed++;
      if (typeof runtime === "number" && figures.runtimes.length < MAX_RUNTIMES) {
        figures.runtimes.push(runtime);
      }
    }
  }

  /** Closes the open second if it is before `t`; returns the points closed now. */
  closeBefore(t = Math.floor(Date.now() / 1000)): ChartPoint[] {
    const open = this.#open;
    if (!open || open.t >= t) return [];
    this.#open = undefined;
    const names: Record<string, NameSecond> = {};
    for (const [name, figures] of open.names) names[name] = close(figures);
    const point: ChartPoint = { t: open.t, ...close(open), names };
    this.#points.push(point);
    if (this.#points.length > this.#seconds) this.#points.shift();
    this.#unread.push(point);
    if (this.#unread.length > this.#seconds) this.#unread.shift();
    return [point];
  }

  /** The seconds closed since the last call (by `record` or `closeBefore`), oldest first. */
  takeClosed(): ChartPoint[] {
    const points = this.#unread;
    this.#unread = [];
    return points;
  }

  /** The closed seconds, oldest first. */
  points(): ChartPoint[] {
    return [...this.#points];
  }
}
