/**
 * Beat's persisted state: when each entry last ran and how often, plus the
 * `tz` / `utc_enabled` it was computed under (Celery's `celerybeat-schedule`,
 * as JSON instead of a pickled shelve). The same document is the state a
 * leader shares through its lease (src/beat/leader_lease.ts).
 *
 * A stored entry only restores run state onto an entry of the same name in
 * the current `beat_schedule`: entries gone from the config are dropped, new
 * ones start from now (Celery's `merge_inplace`). A changed `timezone` or
 * `enable_utc` discards the stored state, with Celery's log lines.
 *
 * @module
 */

import { getLogger } from "../log.ts";
import { formatCeleryDate } from "../protocol/dates.ts";
import type { ScheduleEntry } from "./entry.ts";

const log = getLogger("beat");

/** Format version written to `__version__`. */
export const STORE_VERSION = "celeriac-beat-1";

/** One entry's run state as stored. */
export interface StoredEntry {
  /** Task name (informational). */
  task: string;
  /** The schedule's repr (informational). */
  schedule: string;
  /** Positional arguments (informational). */
  args: unknown[];
  /** Keyword arguments (informational). */
  kwargs: Record<string, unknown>;
  /** Call options (informational). */
  options: Record<string, unknown>;
  /** Last send time, ISO-8601 with offset. */
  last_run_at: string;
  /** Sends so far. */
  total_run_count: number;
}

/** The stored document. */
export interface StoredSchedule {
  /** Format version. */
  __version__: string;
  /** The `timezone` setting it was written under. */
  tz: string | null;
  /** The `enable_utc` setting it was written under. */
  utc_enabled: boolean;
  /** Entry name → run state. */
  entries: Record<string, StoredEntry>;
}

/** The settings the stored state depends on. */
export interface StoreSettings {
  /** `timezone`. */
  timezone: string | null;
  /** `enable_utc`. */
  enable_utc: boolean;
}

/** Renders entries as the stored JSON document. */
export function serializeSchedule(
  entries: Iterable<ScheduleEntry>,
  settings: StoreSettings,
): string {
  const document: StoredSchedule = {
    __version__: STORE_VERSION,
    tz: settings.timezone,
    utc_enabled: settings.enable_utc,
    entries: {},
  };
  for (const entry of entries) {
    document.entries[entry.name] = {
      task: entry.task,
      schedule: String(entry.schedule),
      args: entry.args,
      kwargs: entry.kwargs,
      options: entry.options,
      last_run_at: formatCeleryDate(entry.lastRunAt),
      total_run_count: entry.totalRunCount,
    };
  }
  return `${JSON.stringify(document, null, 2)}\n`;
}

function pythonName(value: string | null): string {
  return value === null ? "None" : `'${value}'`;
}

/**
 * Reads a stored document. Returns the entries' run state, or an empty map
 * when the text is not a document (logged as corrupted) or was written under
 * another `timezone` / `enable_utc` (logged as Celery's `Reset: …`).
 */
export function parseSchedule(
  text: string,
  settings: StoreSettings,
  source: string,
): Map<string, { lastRunAt: Date; totalRunCount: number }> {
  const state = new Map<string, { lastRunAt: Date; totalRunCount: number }>();
  let document: StoredSchedule;
  try {
    document = JSON.parse(text);
    if (typeof document !== "object" || document === null || typeof document.entries !== "object") {
      throw new Error("no entries");
    }
  } catch (error) {
    log.error(`Removing corrupted schedule file '${source}': ${error}`);
    return state;
  }
  if ((document.tz ?? null) !== settings.timezone) {
    log.warning(
      `Reset: Timezone changed from ${pythonName(document.tz ?? null)} to ` +
        pythonName(settings.timezone),
    );
    return state;
  }
  if (document.utc_enabled !== settings.enable_utc) {
    const word = (on: boolean) => on ? "enabled" : "disabled";
    log.warning(
      `Reset: UTC changed from ${word(document.utc_enabled)} to ${word(settings.enable_utc)}`,
    );
    return state;
  }
  for (const [name, stored] of Object.entries(document.entries)) {
    const lastRunAt = new Date(stored?.last_run_at);
    if (Number.isNaN(lastRunAt.getTime())) continue;
    state.set(name, { lastRunAt, totalRunCount: Number(stored.total_run_count) || 0 });
  }
  return state;
}

/**
 * Restores run state onto entries of the same name. When taking over from
 * another leader, pass `sentHere` (entry name → when this beat last sent it):
 * the shared state replaces an entry's own, except where this beat sent the
 * entry later than the shared run (its own send could not be shared).
 */
export function restoreRunState(
  entries: Map<string, ScheduleEntry>,
  state: Map<string, { lastRunAt: Date; totalRunCount: number }>,
  sentHere?: ReadonlyMap<string, Date>,
): void {
  for (const [name, stored] of state) {
    const entry = entries.get(name);
    if (!entry) continue;
    const ownSend = sentHere?.get(name);
    if (ownSend && ownSend > stored.lastRunAt) {
      entry.totalRunCount = Math.max(stored.totalRunCount, entry.totalRunCount);
      continue;
    }
    entry.lastRunAt = stored.lastRunAt;
    entry.totalRunCount = stored.totalRunCount;
  }
}

/** The schedule file (`beat_schedule_filename`, `--schedule path`). */
export class ScheduleFile {
  /** Path of the JSON file. */
  readonly path: string;

  /** Names the file; nothing is read until `load()`. */
  constructor(path: string) {
    this.path = path;
  }

  /** Run state stored in the file; empty when the file does not exist yet. */
  async load(
    settings: StoreSettings,
  ): Promise<Map<string, { lastRunAt: Date; totalRunCount: number }>> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return new Map();
      throw error;
    }
    return parseSchedule(text, settings, this.path);
  }

  /** Writes the entries atomically (a temporary file renamed over the old one). */
  async save(entries: Iterable<ScheduleEntry>, settings: StoreSettings): Promise<void> {
    const temporary = `${this.path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await Deno.writeTextFile(temporary, serializeSchedule(entries, settings));
    await Deno.rename(temporary, this.path);
  }
}
