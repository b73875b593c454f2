/**
 * Telling a mistyped setting from a user's own key. `task_serialiser` is
 * close to `task_serializer`, and `worker_concurency` starts like Celery's
 * worker settings: both are reported ("did you mean `task_serializer`?").
 * A key far from every setting and outside Celery's groups (`MY_API_KEY`,
 * `feature_flags`) is the user's own and is kept silently, as Celery keeps it.
 *
 * @module
 */

import { DEFAULT_SETTINGS, OLD_SETTING_NAMES } from "./settings.ts";

/** Prefixes of Celery's setting groups: an unknown key in one of them is a mistake. */
const CELERY_GROUPS = /^(task|result|broker|worker|beat|celery|celeryd|celerybeat)_/i;

const KNOWN: readonly string[] = [
  ...Object.keys(DEFAULT_SETTINGS),
  ...Object.keys(OLD_SETTING_NAMES),
];

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps), case-insensitive. */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) rows[0][j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[s.length][t.length];
}

/**
 * The known setting closest to `key`, when one is close enough to be what
 * was meant (at most 2 edits, or a quarter of the name for long names).
 *
 * @example
 * ```ts
 * import { closestSetting } from "./setting_typos.ts";
 * console.assert(closestSetting("task_serialiser") === "task_serializer");
 * console.assert(closestSetting("my_api_key") === undefined);
 * ```
 */
export function closestSetting(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of KNOWN) {
    const distance = editDistance(key, known);
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  const limit = Math.max(2, Math.floor(key.length / 4));
  return bestDistance <= limit ? best : undefined;
}

/**
 * Why `key` (not a known setting) looks like a mistake, or undefined when it
 * is the user's own key: `unknown setting "task_serialiser" (did you mean
 * "task_serializer"?)`.
 */
export function unknownSettingProblem(key: string): string | undefined {
  const closest = closestSetting(key);
  if (closest) return `unknown setting ${JSON.stringify(key)} (did you mean "${closest}"?)`;
  if (CELERY_GROUPS.test(key)) {
    return `unknown setting ${JSON.stringify(key)} (no Celery setting has this name)`;
  }
  return undefined;
}
