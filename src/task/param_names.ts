/**
 * Mapping keyword arguments onto a TypeScript function's named parameters.
 * A Python client's `kwargs={"x": 1, "y": 2}` reaches `function add(x, y)`
 * as `add(1, 2)`: parameter names are read once, when the task is defined.
 *
 * @module
 */

/** Strips comments and string literals from source text (enough for a parameter list). */
function stripNoise(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
}

/** Splits a parameter list at top-level commas. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of list) {
    if ("([{<".includes(char)) depth++;
    if (")]}>".includes(char)) depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (current.trim()) parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

function parameterList(source: string): string {
  const text = stripNoise(source).trim();
  const open = text.indexOf("(");
  const arrow = text.indexOf("=>");
  if (arrow !== -1 && (open === -1 || open > arrow)) {
    return text.slice(0, arrow).replace(/^async\s+/, "").trim();
  }
  if (open === -1) return "";
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "(") depth++;
    if (text[i] === ")" && --depth === 0) return text.slice(open + 1, i);
  }
  return "";
}

/**
 * The names of a function's parameters, in order. A destructured parameter is
 * `null` (it receives the remaining keyword arguments as one object); a rest
 * parameter is `...name`.
 *
 * @example
 * ```ts
 * import { parameterNames } from "./param_names.ts";
 * console.assert(parameterNames(function add(x: number, y = 2) { return x + y; }).join() === "x,y");
 * ```
 */
export function parameterNames(fn: (...args: never[]) => unknown): (string | null)[] {
  return splitTopLevel(parameterList(fn.toString())).map((param) => {
    if (param.startsWith("{") || param.startsWith("[")) return null;
    const rest = param.startsWith("...");
    const name = /^(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)/.exec(param)?.[1] ?? null;
    return name && rest ? `...${name}` : name;
  });
}

/** How a parameter takes its argument: `rest` and `object` (destructured) ones are never missing. */
export type ParameterKind = "required" | "optional" | "rest" | "object";

/**
 * The kind of each parameter, in order: `optional` when it has a default,
 * `rest` for `...args`, `object` when destructured, else `required`. (A
 * TypeScript `y?: number` reads as required: its `?` is gone at run time.)
 *
 * @example
 * ```ts
 * import { parameterKinds } from "./param_names.ts";
 * const kinds = parameterKinds(function f(x: number, y = 2, ...rest: number[]) { return x; });
 * console.assert(kinds.join() === "required,optional,rest");
 * ```
 */
export function parameterKinds(fn: (...args: never[]) => unknown): ParameterKind[] {
  return splitTopLevel(parameterList(fn.toString())).map((param) => {
    if (param.startsWith("...")) return "rest";
    if (param.startsWith("{") || param.startsWith("[")) return "object";
    return /^[A-Za-z_$][\w$]*\s*=/.test(param) ? "optional" : "required";
  });
}

/**
 * Builds the argument list for a call with positional `args` and keyword
 * `kwargs`, as Python would bind them. Throws a TypeError worded like
 * Python's for an unknown keyword or one given twice.
 */
export function bindArguments(
  taskName: string,
  names: readonly (string | null)[],
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): unknown[] {
  const bound = [...args];
  const keys = Object.keys(kwargs);
  // "**kwargs": the task takes any keyword arguments and reads them from its request.
  if (keys.length === 0 || names.includes("**kwargs")) return bound;
  const remaining: Record<string, unknown> = {};
  for (const key of keys) {
    const index = names.indexOf(key);
    if (index === -1) {
      remaining[key] = kwargs[key];
      continue;
    }
    if (index < args.length) {
      throw new TypeError(`${taskName}() got multiple values for argument '${key}'`);
    }
    bound[index] = kwargs[key];
  }
  if (Object.keys(remaining).length === 0) return bound;
  const objectSlot = names.findIndex((name, i) => name === null && i >= args.length);
  if (objectSlot !== -1) {
    bound[objectSlot] = { ...(bound[objectSlot] as object ?? {}), ...remaining };
    return bound;
  }
  const unknown = Object.keys(remaining)[0];
  throw new TypeError(`${taskName}() got an unexpected keyword argument '${unknown}'`);
}
