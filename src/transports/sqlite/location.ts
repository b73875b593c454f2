/**
 * Where the embedded SQLite broker and result backend keep their file: the
 * path inside a `sqlite://` URL, and the per-user default location.
 *
 * @module
 */

import { ConfigurationError } from "../../errors.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch (error) {
    // Never guess: without --allow-env the file would quietly move elsewhere.
    throw new ConfigurationError(
      `Cannot tell where the embedded default keeps its data: reading $${name} needs ` +
        `--allow-env (the file is $CELERIAC_HOME/embedded.sqlite3, else under $XDG_DATA_HOME ` +
        `or $HOME). Run with --allow-env, or name the file: sqlite:///path/to/file.sqlite3.`,
      { cause: error },
    );
  }
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

function trimEnd(path: string): string {
  return path.length > 1 ? path.replace(/[\\/]+$/, "") : path;
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : `${Deno.cwd().replace(/[\\/]+$/, "")}/${path}`;
}

/**
 * The default embedded data file, as a `sqlite:///absolute/path` URL:
 * `$CELERIAC_HOME/embedded.sqlite3` when set, else
 * `${XDG_DATA_HOME or ~/.local/share}/celeriac/embedded.sqlite3`.
 *
 * @example
 * ```ts
 * console.log(defaultEmbeddedUrl()); // sqlite:///home/me/.local/share/celeriac/embedded.sqlite3
 * ```
 */
export function defaultEmbeddedUrl(): string {
  const celeriacHome = env("CELERIAC_HOME");
  let dir: string;
  if (celeriacHome) {
    dir = celeriacHome;
  } else {
    const home = env("HOME") ?? env("USERPROFILE") ?? ".";
    dir = `${trimEnd(env("XDG_DATA_HOME") ?? `${trimEnd(home)}/.local/share`)}/celeriac`;
  }
  const path = `${trimEnd(absolute(dir))}/embedded.sqlite3`.replaceAll("\\", "/");
  return path.startsWith("/") ? `sqlite://${path}` : `sqlite:///${path}`;
}

/**
 * The file a `sqlite://` URL names: `sqlite:///abs/file.sqlite3` is absolute,
 * `sqlite://rel/file.sqlite3` is relative to the working directory, and
 * `sqlite://` alone is the default embedded file. A query string is ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(sqliteFilePath("sqlite:///tmp/q.sqlite3"), "/tmp/q.sqlite3");
 * ```
 */
export function sqliteFilePath(url: string): string {
  const match = /^sqlite:\/\/([^?#]*)/i.exec(url);
  if (!match) {
    throw new ConfigurationError(
      `Cannot use ${JSON.stringify(url)} as an embedded SQLite URL: ` +
        `expected sqlite:///absolute/path.sqlite3 or sqlite://relative/path.sqlite3.`,
    );
  }
  const path = decodeURIComponent(match[1]);
  if (path === "" || path === "/") return sqliteFilePath(defaultEmbeddedUrl());
  if (/^\/[A-Za-z]:[\\/]/.test(path)) return path.slice(1); // sqlite:///C:/data/x.sqlite3
  return absolute(path);
}

/** The directory part of a file path. */
export function parentDirectory(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut <= 0 ? (cut === 0 ? "/" : ".") : path.slice(0, cut);
}
