/**
 * The ids of revoked tasks, as Celery's worker keeps them (spec §3.7):
 * bounded (50 000 ids; past that, ids older than 3 hours go first, then the
 * oldest), optionally persisted in a state file (`--statedb`), and exchanged
 * with other workers at start-up (mingle, §3.9) in Celery's form
 * `{id: [monotonic seconds, id]}`.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/** Most revoked ids kept (Celery's `REVOKES_MAX`). */
export const REVOKES_MAX = 50_000;
/** Seconds after which a revoked id may be forgotten once the set is full (`REVOKE_EXPIRES`). */
export const REVOKE_EXPIRES = 10_800;

/** Seconds on a clock that only moves forward (Python's `monotonic()`), never a whole number. */
function monotonicSeconds(): number {
  const seconds = performance.timeOrigin / 1000 + performance.now() / 1000;
  return Number.isInteger(seconds) ? seconds + 1e-6 : seconds;
}

/** Revoked task ids, bounded. */
export class RevokedSet {
  /** id → when it was revoked (monotonic seconds), oldest first. */
  readonly #entries = new Map<string, number>();
  readonly #maxSize: number;
  readonly #expires: number;

  /** An empty set holding at most `maxSize` ids. */
  constructor(maxSize = REVOKES_MAX, expires = REVOKE_EXPIRES) {
    this.#maxSize = maxSize;
    this.#expires = expires;
  }

  /** Number of ids. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `id` is revoked. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Adds ids (moving known ones to the recent end). */
  add(...ids: string[]): void {
    const now = monotonicSeconds();
    for (const id of ids) {
      this.#entries.delete(id);
      this.#entries.set(id, now);
    }
    this.#purge();
  }

  /** The ids, oldest first. */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** Celery's mingle/statedb form: `{id: [seconds, id]}` (seconds always with a fraction). */
  toData(): Record<string, [number, string]> {
    const out: Record<string, [number, string]> = {};
    for (const [id, at] of this.#entries) out[id] = [at, id];
    return out;
  }

  /**
   * Merges ids in Celery's form (`{id: [seconds, id]}` or `{id: seconds}`);
   * entries of any other shape are skipped. Returns how many were new.
   */
  merge(data: unknown): number {
    if (typeof data !== "object" || data === null || Array.isArray(data)) return 0;
    let added = 0;
    const now = monotonicSeconds();
    for (const id of Object.keys(data)) {
      if (this.#entries.has(id)) continue;
      const value = (data as Record<string, unknown>)[id];
      const at = Array.isArray(value) ? value[0] : value;
      if (typeof at !== "number") continue;
      // Peers' clocks are not ours: keep the order they had, counted from now.
      this.#entries.set(id, now);
      added++;
    }
    this.#purge();
    return added;
  }

  /** Past the bound: ids older than `expires` go, then the oldest (entries are oldest first). */
  #purge(): void {
    if (this.#entries.size <= this.#maxSize) return;
    const oldest = monotonicSeconds() - this.#expires;
    for (const [id, at] of this.#entries) {
      if (at >= oldest && this.#entries.size <= this.#maxSize) return;
      this.#entries.delete(id);
    }
  }
}

/**
 * The worker's state file (`--statedb`, `worker_state_db`): the revoked ids
 * and the clock, as JSON (Celery's is a Python shelve; neither reads the
 * other's). Loaded at start, saved after each revoke (at most once a second)
 * and at shutdown.
 */
export class StateFile {
  readonly #path: string;
  readonly #revoked: RevokedSet;
  readonly #logger: Logger;
  #timer?: ReturnType<typeof setTimeout>;

  /** A state file at `path` for `revoked`. */
  constructor(path: string, revoked: RevokedSet, logger: Logger) {
    this.#path = path;
    this.#revoked = revoked;
    this.#logger = logger;
  }

  /** Reads the file if it exists; returns the saved clock (0 when none). */
  async load(): Promise<number> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return 0;
      throw error;
    }
    try {
      const saved = JSON.parse(text);
      this.#revoked.merge(saved?.revoked);
      return typeof saved?.clock === "number" ? saved.clock : 0;
    } catch (error) {
      this.#logger.error(`Ignoring the unreadable state file ${this.#path}: ${error}`);
      return 0;
    }
  }

  /** Saves within a second (revokes come in bursts). */
  saveSoon(clock: () => number): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.save(clock()).catch((error) =>
        this.#logger.error(`Cannot save the state file ${this.#path}: ${error}`)
      );
    }, 1000);
  }

  /** Writes the file now (through a temporary file, so a crash never leaves half of it). */
  async save(clock: number): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const text = JSON.stringify({ revoked: this.#revoked.toData(), clock });
    const temporary = `${this.#path}.tmp`;
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, this.#path);
  }
}
