/**
 * Celery's native chord join on Redis (spec §1.7), key for key: the chord
 * size `celery-taskset-meta-<gid>.s` (SETEX + PUBLISH, written by the
 * client before the last header message), the completions ZSET `.j` (member
 * `[1, task_id, state, result]` scored by `group_index`, `+inf` when none),
 * the extra count `.t`, and saved group results `celery-taskset-meta-<gid>`.
 * Each completion is one MULTI/EXEC (ZADD, ZCOUNT, GET .t, GET .s, EXPIRE ×3),
 * so a chord whose header ran partly on Python workers completes once.
 *
 * The join completes when the count *reaches or passes* the size, once
 * (celeriac's own `.f` key, `SET NX`): a header chain that ends in a group
 * reports once per group member, while the size counts it as one part, and
 * those reports can all come before the client wrote the size (it does so
 * only before the last header message). Celery's `==` then never matches,
 * and the body never runs (seen with threads running the header's parts at
 * once); the last top-level part, sent after the size, now completes it.
 *
 * @module
 */

import type { RedisConnection } from "./facade.ts";
import type { ChordPart, ChordProgress } from "../../canvas/chord_backend.ts";
import { pythonJson } from "../../protocol/python_json.ts";
import type { ResultKeys } from "./result_keys.ts";

/** How long the "completed" mark `.f` is kept when results do not expire (s). */
const FIRED_KEPT_S = 86_400;

/** The join keys of one group. */
function joinKeys(keys: ResultKeys, groupId: string) {
  const base = keys.groupPrefix + groupId;
  return { group: base, j: `${base}.j`, t: `${base}.t`, s: `${base}.s`, f: `${base}.f` };
}

/** SETEX (or SET) + PUBLISH of a group key, as Celery's `_set_with_state`. */
async function setAndPublish(
  commands: RedisConnection,
  key: string,
  value: string,
  expires: number,
): Promise<void> {
  await commands.transaction().set(key, value, expires || undefined).publish(key, value).exec();
}

/** Stores the chord size. */
export async function setChordSize(
  commands: RedisConnection,
  keys: ResultKeys,
  expires: number,
  groupId: string,
  size: number,
): Promise<void> {
  await setAndPublish(commands, joinKeys(keys, groupId).s, String(size), expires);
}

function decodePart(text: string): ChordPart {
  const [, taskId, state, result] = JSON.parse(text) as [number, string, string, unknown];
  return { taskId, state, result };
}

/**
 * Adds one completion; when every part is in, returns them in header order.
 * With `ordered` false (`result_chord_ordered` in
 * `result_backend_transport_options`) `.j` is a list, as in Celery.
 */
export async function chordPartReturn(
  commands: RedisConnection,
  keys: ResultKeys,
  expires: number,
  groupId: string,
  part: ChordPart,
  groupIndex: number | null,
  ordered = true,
): Promise<ChordProgress> {
  const k = joinKeys(keys, groupId);
  const member = pythonJson([1, part.taskId, part.state, part.result]);
  const start = commands.transaction();
  let batch =
    (ordered
      ? start.zadd(k.j, groupIndex ?? Infinity, member).zcount(k.j, "-inf", "+inf")
      : start.rpush(k.j, member).llen(k.j))
      .get(k.t)
      .get(k.s);
  if (expires) batch = batch.expire(k.j, expires).expire(k.t, expires).expire(k.s, expires);
  const [, readyCount, extra, size] = await batch.exec();
  if (size === null || size === undefined) return { complete: false };
  const total = Number(size) + Number(extra ?? 0);
  if (Number(readyCount) < total) return { complete: false };
  // Only the first report at or past the size completes the join.
  if (!await commands.setNxPx(k.f, "1", (expires || FIRED_KEPT_S) * 1000)) {
    return { complete: false };
  }
  const read = commands.transaction();
  const [members] = await (ordered ? read.zrange(k.j, 0, -1) : read.lrange(k.j, 0, total)).exec();
  return { complete: true, parts: (members as string[]).map(decodePart) };
}

/** DEL .j .t .s .f once the body was sent. */
export async function deleteChordKeys(
  commands: RedisConnection,
  keys: ResultKeys,
  groupId: string,
): Promise<void> {
  const k = joinKeys(keys, groupId);
  await commands.transaction().del(k.j).del(k.t).del(k.s).del(k.f).exec();
}

/** Saves a group result: `{"result": [[gid, null], [member tuples]]}`. */
export async function saveGroup(
  commands: RedisConnection,
  keys: ResultKeys,
  expires: number,
  groupId: string,
  results: unknown[],
): Promise<void> {
  const value = pythonJson({ result: [[groupId, null], results] });
  await setAndPublish(commands, joinKeys(keys, groupId).group, value, expires);
}

/** The member tuples of a saved group result, or undefined. */
export async function restoreGroup(
  commands: RedisConnection,
  keys: ResultKeys,
  groupId: string,
): Promise<unknown[] | undefined> {
  const text = await commands.get(joinKeys(keys, groupId).group);
  if (text === null) return undefined;
  const meta = JSON.parse(text) as { result?: unknown };
  const tuple = meta.result;
  return Array.isArray(tuple) && Array.isArray(tuple[1]) ? tuple[1] : undefined;
}

/** Deletes a saved group result. */
export async function deleteGroup(
  commands: RedisConnection,
  keys: ResultKeys,
  groupId: string,
): Promise<void> {
  await commands.del([joinKeys(keys, groupId).group]);
}
