/**
 * `-A ./path/to/app.ts[:exportName]`: importing the module that defines the
 * app and finding the app in it.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { toModuleUrl } from "../app/config_loader.ts";
import { findApp } from "../worker/pool/find_app.ts";
import type { AppLocation } from "../worker/pool/messages.ts";
import { UsageError } from "./usage_error.ts";

/** The app and where worker threads find it again. */
export interface LoadedApp {
  /** The app. */
  app: Celery;
  /** Its module and export. */
  location: AppLocation;
}

/** Splits `module[:export]` (a scheme's colon, as in `file:///x.ts`, is not a separator). */
export function splitAppSpecifier(specifier: string): { module: string; exportName?: string } {
  const match = /^(.+):([A-Za-z_$][\w$]*)$/.exec(specifier);
  if (match && !/^[a-z][a-z0-9+.-]*$/i.test(match[1])) {
    return { module: match[1], exportName: match[2] };
  }
  return { module: specifier };
}

/** Imports the app module named by `-A`; errors name the module and what is wrong. */
export async function loadApp(specifier: string | undefined, command: string): Promise<LoadedApp> {
  if (!specifier) {
    throw new UsageError(
      "missing --app (or -A): name the module that defines the app, " +
        "as in --app ./tasks.ts or --app ./tasks.ts:app",
      command,
    );
  }
  const { module, exportName } = splitAppSpecifier(specifier);
  const moduleUrl = toModuleUrl(module);
  let loaded: Record<string, unknown>;
  try {
    loaded = await import(moduleUrl);
  } catch (error) {
    const reason = (error as Error)?.message?.split("\n")[0] ?? String(error);
    throw new UsageError(`cannot import ${module}: ${reason}`, command);
  }
  const app = findApp(loaded, { specifier: module, exportName }) as unknown as Celery;
  return { app, location: { moduleUrl, exportName, main: app.main } };
}
