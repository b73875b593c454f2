/**
 * What a result backend with a native chord join offers (Celery's Redis
 * backend, spec §1.7): the chord size key written by the client, the
 * per-part completion counter written by workers, and saved group results.
 *
 * @module
 */

import type { ResultBackend } from "../backend/types.ts";

/** One header completion as stored in the join (`[1, task_id, state, result]`). */
export interface ChordPart {
  /** Header task id. */
  taskId: string;
  /** Its state (SUCCESS, FAILURE, REVOKED). */
  state: string;
  /** Its encoded result. */
  result: unknown;
}

/** What `chordPartReturn` found after adding one completion. */
export type ChordProgress =
  | { complete: false }
  | { complete: true; parts: ChordPart[] };

/** A result backend that counts chord parts itself (Redis). */
export interface NativeChordBackend extends ResultBackend {
  /** Stores the chord size (`celery-taskset-meta-<gid>.s`). */
  setChordSize(groupId: string, size: number): Promise<void>;
  /** Adds a header completion; says whether the chord is complete, with every part in header order. */
  chordPartReturn(
    groupId: string,
    part: ChordPart,
    groupIndex: number | null,
  ): Promise<ChordProgress>;
  /** Deletes the join keys once the body was sent. */
  deleteChordKeys(groupId: string): Promise<void>;
  /** Saves a group result (`celery-taskset-meta-<gid>`) as Celery's result tuples. */
  saveGroup(groupId: string, results: unknown[]): Promise<void>;
  /** Reads a saved group result's tuples, or undefined. */
  restoreGroup(groupId: string): Promise<unknown[] | undefined>;
  /** Deletes a saved group result. */
  deleteGroup(groupId: string): Promise<void>;
}

/** True when `backend` joins chords natively. */
export function isNativeChordBackend(
  backend: ResultBackend | undefined,
): backend is NativeChordBackend {
  return backend !== undefined &&
    typeof (backend as Partial<NativeChordBackend>).chordPartReturn === "function";
}
