/**
 * Which module created an app: the `workers` pool's worker threads import that
 * module again to find the app and its tasks.
 *
 * @module
 */

const OWN_SOURCES = new URL("../", import.meta.url).href;

/** The first module on the stack outside celeriac's own sources: the app's module. */
export function callerModule(): string | undefined {
  const stack = new Error().stack ?? "";
  for (const match of stack.matchAll(/((?:file|https?|jsr|data):[^\s)]+?):\d+:\d+/g)) {
    if (!match[1].startsWith(OWN_SOURCES)) return match[1];
  }
  return undefined;
}
