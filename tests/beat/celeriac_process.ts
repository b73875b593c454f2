/**
 * A `celeriac` command (`deno run -A cli.ts …`, or `deno task …`) run as a
 * child process for beat's end-to-end tests. It reads the child's output as
 * it comes and keeps what beat reported: each send (entry, task, id, log
 * time) from beat's `Scheduler: Sending due task …` and `… sent. id->…`
 * lines, and whether the child took the leader lease.
 *
 * @module
 */

/** The repository root; commands run from there. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** One send beat logged. */
export interface LoggedSend {
  /** Entry name. */
  entry: string;
  /** Task name. */
  task: string;
  /** Task id (from the DEBUG line; empty until it is logged). */
  id: string;
  /** Log time, epoch ms. */
  at: number;
  /** Which process sent it. */
  by: string;
}

const LOG_LINE = /^\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}): \w+\/\w+\] (.*)$/;
const SENDING = /^Scheduler: Sending due task (\S+) \((\S+)\)$/;
const SENT = /^(\S+) sent\. id->(\S+)$/;

/** Log lines carry local wall time with milliseconds. */
function logTime(match: RegExpExecArray): number {
  const [year, month, day, hour, minute, second, ms] = match.slice(1, 8).map(Number);
  return new Date(year, month - 1, day, hour, minute, second, ms).getTime();
}

/** A running command and what it printed. */
export class CeleriacProcess {
  /** A label for messages ("beat-1", "worker-2"). */
  readonly label: string;
  /** Sends this process logged, in order. */
  readonly sends: LoggedSend[] = [];
  /** Every line printed (stdout and stderr), for failure messages. */
  readonly lines: string[] = [];
  /** Exit code once it ended. */
  readonly status: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>[];

  /** Starts `deno <args>` from the repository root with `env` added. */
  constructor(label: string, args: string[], env: Record<string, string>) {
    this.label = label;
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.status = this.#child.status;
    this.#reading = [this.#read(this.#child.stdout), this.#read(this.#child.stderr)];
  }

  /** Starts `deno run -A cli.ts <args>`. */
  static cli(label: string, args: string[], env: Record<string, string>): CeleriacProcess {
    return new CeleriacProcess(label, ["run", "-A", "cli.ts", ...args], env);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) this.#line(line);
    }
    if (buffer) this.#line(buffer);
  }

  #line(line: string): void {
    this.lines.push(line);
    const log = LOG_LINE.exec(line);
    if (!log) return;
    const sending = SENDING.exec(log[8]);
    if (sending) {
      const [entry, task] = [sending[1], sending[2]];
      this.sends.push({ entry, task, id: "", at: logTime(log), by: this.label });
      return;
    }
    const sent = SENT.exec(log[8]);
    const last = this.sends.at(-1);
    if (sent && last && last.id === "" && last.task === sent[1]) last.id = sent[2];
  }

  /** True once a printed line matches `pattern`. */
  printed(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line));
  }

  /** Waits until `condition` holds; fails naming `what` (with the output) after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.label}: timed out waiting for ${what}. Output:\n` +
            this.lines.slice(-40).join("\n"),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Waits for a printed line matching `pattern`. */
  untilPrinted(pattern: RegExp, timeoutMs?: number): Promise<void> {
    return this.until(() => this.printed(pattern), `a line matching ${pattern}`, timeoutMs);
  }

  /** Sends `signal` (SIGKILL: a crash; SIGTERM: a warm shutdown) and waits for the exit. */
  async stop(signal: "SIGKILL" | "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch { /* already gone */ }
    const status = await this.status;
    await Promise.all(this.#reading);
    return status;
  }
}

/**
 * Checks that no entry was sent twice for one slot across processes: sends of
 * an entry are at least `every` seconds apart (less 50 ms of log rounding and
 * timer slack). Returns a failure message, or undefined.
 */
export function doubleSends(sends: LoggedSend[], every: number): string | undefined {
  const byEntry = Map.groupBy(sends, (send) => send.entry);
  for (const [entry, list] of byEntry) {
    const sorted = list.toSorted((a, b) => a.at - b.at);
    for (let i = 1; i < sorted.length; i++) {
      const gap = (sorted[i].at - sorted[i - 1].at) / 1000;
      // Two processes: any gap short of one interval is a slot sent twice. One process: the
      // scheduler takes `now` before it logs, so on a loaded machine a late log line can sit
      // closer than one interval to the next; only a gap under half the interval is a slot
      // sent twice.
      const sameProcess = sorted[i].by === sorted[i - 1].by;
      if (gap < (sameProcess ? every / 2 : every - 0.05)) {
        return `${entry} sent by ${sorted[i - 1].by} and ${sorted[i].by} ${gap} s apart`;
      }
    }
  }
  return undefined;
}
