/**
 * Running an example as a user would, on the embedded default in a fresh
 * temporary CELERIAC_HOME.
 *
 * @module
 */

/** The repository root: examples are run from there, as the README says. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** What a run printed and returned. */
export interface ExampleRun {
  /** Exit code. */
  code: number;
  /** stdout. */
  stdout: string;
  /** stderr. */
  stderr: string;
}

/** Runs `body` with a fresh CELERIAC_HOME directory, removed afterwards. */
export async function withHome<T>(body: (home: string) => Promise<T>): Promise<T> {
  const home = await Deno.makeTempDir({ prefix: "celeriac-example-" });
  try {
    return await body(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** Runs `deno <args>` from the repository root with `env` added. */
export async function runDeno(args: string[], env: Record<string, string>): Promise<ExampleRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs one example module (`examples/<path>`) on a fresh embedded default. */
export function runExample(
  path: string,
  env: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<ExampleRun> {
  return withHome((home) =>
    runDeno(["run", "-A", `examples/${path}`, ...extraArgs], { CELERIAC_HOME: home, ...env })
  );
}
