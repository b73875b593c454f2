/**
 * Flag parsing for every command, behind one function over `node:util`'s
 * `parseArgs` (so switching to `@std/cli` later changes this file only).
 *
 * @module
 */

import { parseArgs as nodeParseArgs } from "node:util";
import { type LogLevel, parseLogLevel } from "../log.ts";
import { UsageError } from "./usage_error.ts";

/** One flag: its type, short letter and help text. */
export interface FlagSpec {
  /** `string` takes a value; `boolean` does not. */
  type: "string" | "boolean";
  /** One-letter alias. */
  short?: string;
  /** Help text. */
  help: string;
  /** Value name shown in help (`N`, `QUEUES`). */
  value?: string;
}

/** Flags every command accepts. */
export const COMMON_FLAGS: Record<string, FlagSpec> = {
  app: { type: "string", short: "A", help: "module defining the app, path[:export]", value: "APP" },
  loglevel: {
    type: "string",
    short: "l",
    help: "DEBUG, INFO, WARNING, ERROR or CRITICAL (default WARNING)",
    value: "LEVEL",
  },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/** Parsed flags and positionals. */
export interface ParsedArgs {
  /** Flag values by long name. */
  values: Record<string, string | boolean | undefined>;
  /** Positional arguments. */
  positionals: string[];
}

/** Parses `args` against `flags`; unknown flags are a UsageError naming them. */
export function parseFlags(
  args: string[],
  flags: Record<string, FlagSpec>,
  command: string,
): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(flags)) {
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  }
  try {
    const { values, positionals } = nodeParseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional.*$/s, "");
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1), command);
  }
}

/** Reads a whole-number flag; a bad value is a UsageError naming the flag. */
export function intFlag(
  value: string | boolean | undefined,
  flag: string,
  command: string,
  min = 0,
): number | undefined {
  if (value === undefined || typeof value === "boolean") return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) {
    throw new UsageError(
      `invalid value for ${flag}: ${JSON.stringify(value)} is not a whole number of ${min} or more`,
      command,
    );
  }
  return number;
}

/** Reads a number flag (seconds and the like). */
export function numberFlag(
  value: string | boolean | undefined,
  flag: string,
  command: string,
): number | undefined {
  if (value === undefined || typeof value === "boolean") return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0) {
    throw new UsageError(
      `invalid value for ${flag}: ${JSON.stringify(value)} is not a number`,
      command,
    );
  }
  return number;
}

/** Reads `--loglevel`. */
export function logLevelFlag(value: string | boolean | undefined, command: string): LogLevel {
  if (value === undefined || typeof value === "boolean") return "WARNING";
  try {
    return parseLogLevel(value);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

/** Reads a JSON flag (`--args`, `--kwargs`) and checks its shape. */
export function jsonFlag<T>(
  value: string | boolean | undefined,
  flag: string,
  command: string,
  shape: "array" | "object",
): T | undefined {
  if (value === undefined || typeof value === "boolean") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`invalid JSON for ${flag}: ${(error as Error).message}`, command);
  }
  const ok = shape === "array"
    ? Array.isArray(parsed)
    : typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
  if (!ok) {
    throw new UsageError(
      `${flag} must be a JSON ${
        shape === "array" ? "array, as in '[1, 2]'" : `object, as in '{"x": 1}'`
      }`,
      command,
    );
  }
  return parsed as T;
}

/** Help text for a command. */
export function helpText(
  usage: string,
  summary: string,
  flags: Record<string, FlagSpec>,
): string {
  const rows = Object.entries(flags).map(([name, spec]) => {
    const head = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${
      spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""
    }`;
    return `  ${head.padEnd(34)} ${spec.help}`;
  });
  return `Usage: ${usage}\n\n${summary}\n\nOptions:\n${rows.join("\n")}\n`;
}
