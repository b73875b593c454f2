/**
 * Running `deno run -A cli.ts …` as a user would, for the CLI tests.
 *
 * @module
 */

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** The app module the CLI tests pass with `-A`. */
export const FIXTURE_APP: string = new URL("./fixtures/cli_app.ts", import.meta.url).pathname;

/** What one run printed and returned. */
export interface CliRun {
  /** Exit code. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr. */
  stderr: string;
}

/** Runs the CLI to completion with `env` added to the environment. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
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

/** A worker process started by `startWorker`. */
export interface WorkerProcess {
  /** The process. */
  child: Deno.ChildProcess;
  /** Stderr so far (log lines). */
  stderr(): string;
  /** Sends a signal and resolves with the exit code and everything printed. */
  stop(signal?: Deno.Signal): Promise<CliRun>;
}

/**
 * Starts `cli.ts worker …` (or `script …` when given) and resolves once it
 * logged that it is ready.
 */
export async function startWorker(
  args: string[],
  env: Record<string, string>,
  script?: string,
): Promise<WorkerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(script ? [script] : [CLI, "worker"]), ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stderr = "";
  let stdout = "";
  const stdoutDone = child.stdout.pipeTo(
    new WritableStream({ write: (chunk) => void (stdout += decoder.decode(chunk)) }),
  );
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const stderrDone = child.stderr.pipeTo(
    new WritableStream({
      write: (chunk) => {
        stderr += decoder.decode(chunk);
        if (/ ready\.$/m.test(stderr)) markReady();
      },
    }),
  );
  let hasExited = false;
  const exited = child.status.then((status) => {
    hasExited = true;
    markReady();
    return status;
  });
  await ready;
  const stop = async (signal: Deno.Signal = "SIGTERM"): Promise<CliRun> => {
    try {
      child.kill(signal);
    } catch {
      // already exited
    }
    const status = await exited;
    await Promise.all([stdoutDone, stderrDone]);
    return { code: status.code, stdout, stderr };
  };
  if (hasExited) {
    const run = await stop();
    throw new Error(`the worker exited before it was ready:\n${run.stderr}`);
  }
  return { child, stderr: () => stderr, stop };
}
