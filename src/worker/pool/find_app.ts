/**
 * Finding the app in an imported module, for processes and worker threads that
 * load an app by path (`-A ./tasks.ts[:export]`).
 *
 * @module
 */

import { ConfigurationError } from "../../errors.ts";
import type { TaskDefinition } from "../../task/task.ts";

/** What is needed of an app found by duck typing (another copy of celeriac may have made it). */
export interface AppShape {
  /** Main name. */
  readonly main: string;
  /** Registry. */
  readonly tasks: { get(name: string): TaskDefinition | undefined; names(): string[] };
}

function looksLikeApp(value: unknown): value is AppShape {
  const candidate = value as AppShape | null;
  return typeof candidate === "object" && candidate !== null &&
    typeof candidate.main === "string" && typeof candidate.tasks?.get === "function" &&
    "conf" in candidate;
}

/**
 * The app a module exports: `exportName` when given; else the only exported
 * app, or the one named `main`, or the export called `app`, `celery` or
 * `default`.
 */
export function findApp(
  module: Record<string, unknown>,
  where: { specifier: string; exportName?: string; main?: string },
): AppShape {
  if (where.exportName) {
    const value = module[where.exportName];
    if (!looksLikeApp(value)) {
      throw new ConfigurationError(
        `${where.specifier} has no Celery app exported as "${where.exportName}"` +
          (value === undefined ? "." : ` (that export is a ${typeof value}).`),
      );
    }
    return value;
  }
  const apps = Object.entries(module).filter(([, value]) => looksLikeApp(value)) as [
    string,
    AppShape,
  ][];
  const unique = [...new Set(apps.map(([, app]) => app))];
  if (unique.length === 1) return unique[0];
  const byMain = unique.find((app) => where.main !== undefined && app.main === where.main);
  if (byMain) return byMain;
  for (const name of ["app", "celery", "default"]) {
    const value = module[name];
    if (looksLikeApp(value)) return value;
  }
  throw new ConfigurationError(
    unique.length === 0
      ? `${where.specifier} exports no Celery app: add \`export const app = new Celery(...)\`.`
      : `${where.specifier} exports several apps (${apps.map(([n]) => n).join(", ")}): ` +
        `pick one with ${where.specifier}:<exportName>.`,
  );
}
