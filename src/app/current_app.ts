/**
 * The current app, as plain module state. Falling back to the implicit
 * `default` app is never silent: it logs which app and broker it uses, and
 * strict mode makes it throw.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { getLogger } from "../log.ts";

/** The least an app must offer to be the current app. */
export interface AppLike {
  /** The app's main name. */
  readonly main: string;
  /** The broker URL it will use, for the fallback log line. */
  describeBroker(): string;
}

let current: AppLike | undefined;
let strict = Deno.env.get("CELERIAC_STRICT") === "1";
let makeDefault: (() => AppLike) | undefined;
let warned = false;

/** Makes `app` the current app (done by `new Celery()` unless `setAsCurrent: false`). */
export function setCurrentApp(app: AppLike): void {
  current = app;
}

/** Forgets `app` if it is current (done when an app is closed). */
export function clearCurrentApp(app: AppLike): void {
  if (current === app) current = undefined;
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
 * The current app. When no app was made, an implicit app named `default` is
 * created, and a warning names it and its broker; in strict mode this throws.
 */
export function currentAppLike(): AppLike {
  if (current) return current;
  if (strict || !makeDefault) {
    throw new ConfigurationError(
      "No current app: create one with new Celery(...) before using shared tasks " +
        "(strict mode forbids falling back to the default app).",
    );
  }
  current = makeDefault();
  if (!warned) {
    warned = true;
    getLogger("app").warning(
      `No app was created: falling back to the default app "${current.main}" ` +
        `using broker ${current.describeBroker()}.`,
    );
  }
  return current;
}
