/**
 * The current app, as plain module state. Falling back to the implicit
 * `default` app is never silent: it logs which app and broker it uses, and
 * strict mode makes it throw.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

/** The least an app must offer to be the current app. */
export interface AppLike {
  /** The app's main name. */
  readonly main: string;
  /** The broker URL it will use, for the fallback log line. */
  describeBroker(): string;
}

let current: AppLike | undefined;
function strictFromEnvironment(): boolean {
  try {
    return Deno.env.get("CELERIAC_STRICT") === "1";
  } catch {
    return false; // no --allow-env
  }
}

let strict = strictFromEnvironment();
let makeDefault: (() => AppLike) | undefined;

/** Makes `app` the current app (done by `new Celery()` unless `setAsCurrent: false`). */
export function setCurrentApp(app: AppLike): void {
  current = app;
}

/** Forgets `app` if it is current (done when an app is closed). */
export function clearCurrentApp(app: AppLike): void {
  if (current === app) current = undefined;
}

/** True in strict mode (`setStrictMode(true)` or `CELERIAC_STRICT=1`). */
export function isStrictMode(): boolean {
  return strict;
}

/** In strict mode, using a shared task with no current app throws instead of falling back. */
export function setStrictMode(on: boolean): void {
  strict = on;
}

/** Registers how the implicit default app is made (the app module does this). */
export function setDefaultAppFactory(factory: () => AppLike): void {
  makeDefault = factory;
}

/**
 * The current app. When no app was made (or the current one was closed), an
 * implicit app named `default` is created and a warning naming it and its
 * broker is written to stderr, whether or not logging is set up; in strict
 * mode (global, or `{ strict: true }` for this call) this throws instead.
 */
export function currentAppLike(options: { strict?: boolean } = {}): AppLike {
  if (current) return current;
  if (strict || options.strict || !makeDefault) {
    throw new ConfigurationError(
      "No current app: create one with new Celery(...) before using shared tasks " +
        "(strict mode forbids falling back to the default app).",
    );
  }
  current = makeDefault();
  // console.warn, not the logger: with logging not set up, the logger would drop it silently.
  console.warn(
    `celeriac: warning: no app was created, so falling back to the default app ` +
      `"${current.main}" using broker ${current.describeBroker()}. Create your app before ` +
      `calling shared tasks, or set CELERIAC_STRICT=1 to make this an error.`,
  );
  return current;
}
