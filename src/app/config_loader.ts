/**
 * Loading settings from a module, an object or a class (Celery's
 * `config_from_object`).
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

function ownSettings(source: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (typeof value !== "function") out[key] = value;
  }
  return out;
}

function isClass(value: unknown): value is new () => object {
  return typeof value === "function" && /^class\b/.test(Function.prototype.toString.call(value));
}

/** Resolves a relative module specifier against the working directory. */
export function toModuleUrl(specifier: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return specifier;
  const path = specifier.startsWith("/") ? specifier : `${Deno.cwd()}/${specifier}`;
  return new URL(`file://${path}`).href;
}

/**
 * Reads settings: a module specifier (its exports: a default export object,
 * or named exports), a plain object, or a class (its static fields, or an
 * instance's fields).
 */
export async function loadConfig(source: string | object): Promise<Record<string, unknown>> {
  if (typeof source === "string") {
    let module: Record<string, unknown>;
    try {
      module = await import(toModuleUrl(source));
    } catch (error) {
      throw new ConfigurationError(
        `Cannot load configuration module ${JSON.stringify(source)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const fallback = module.default;
    if (fallback && typeof fallback === "object") return ownSettings(fallback);
    return ownSettings(module);
  }
  if (isClass(source)) return { ...ownSettings(source), ...ownSettings(new source()) };
  return ownSettings(source);
}
