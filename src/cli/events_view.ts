/**
 * The screen of `celeriac events`: workers (online or not, active,
 * processed, load) and the most recent tasks (state, name, id, worker,
 * runtime or exception), drawn from a `State` with ANSI escapes so it is
 * redrawn in place.
 *
 * @module
 */

import type { State } from "../events/state.ts";

/** Clears the screen and moves to its top-left corner. */
const HOME = "\x1b[H\x1b[2J";

function clock(seconds: number | undefined): string {
  return seconds ? new Date(seconds * 1000).toISOString().slice(11, 19) : "--:--:--";
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** The whole screen for `state`, sized to the terminal. */
export function renderView(state: State, app: { main: string }, now = Date.now() / 1000): string {
  let columns = 100;
  let rows = 30;
  try {
    ({ columns, rows } = Deno.consoleSize());
  } catch {
    // not a terminal: keep the defaults
  }
  const lines = [
    `celeriac events — app ${app.main} — ${state.eventCount} events, ${state.taskEventCount} task events — ${
      clock(now)
    } UTC — Ctrl+C to quit`,
    "",
    `${fit("WORKER", 36)} ${fit("STATUS", 8)} ${fit("ACTIVE", 7)} ${fit("PROCESSED", 10)} LOAD`,
  ];
  for (const worker of state.workers.values()) {
    const alive = state.isAlive(worker, now);
    lines.push(
      `${fit(worker.hostname, 36)} ${fit(alive ? "ONLINE" : "OFFLINE", 8)} ${
        fit(String(worker.active ?? "-"), 7)
      } ${fit(String(worker.processed ?? "-"), 10)} ${(worker.loadavg ?? []).join(" ")}`,
    );
  }
  if (state.workers.size === 0) lines.push("(no worker heard yet)");
  lines.push("", `${fit("TIME", 9)} ${fit("STATE", 9)} ${fit("TASK", 28)} ${fit("ID", 37)} INFO`);
  const room = Math.max(3, rows - lines.length - 1);
  for (const task of state.tasksByTime(room)) {
    const info = task.state === "SUCCESS"
      ? `${task.result ?? ""} in ${(task.runtime ?? 0).toFixed(3)}s`
      : task.exception ?? (task.worker ? `on ${task.worker}` : "");
    lines.push(
      `${fit(clock(task.timestamp), 9)} ${fit(task.state, 9)} ${fit(task.name ?? "?", 28)} ${
        fit(task.uuid, 37)
      } ${info}`,
    );
  }
  return HOME + lines.map((line) => line.slice(0, columns)).join("\n") + "\n";
}
