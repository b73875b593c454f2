/**
 * The dashboard's scale figures (issue 17): a `celeriac dashboard` process
 * watches a celeriac worker (-E, async pool) drain N tasks (default 100,000)
 * on Redis at full speed while headless Chromium shows the tasks page. It
 * reports the dashboard process's CPU (from /proc), its peak memory, the
 * events it took in, and the page's frame times (requestAnimationFrame
 * intervals and long tasks, read over the DevTools Protocol).
 *
 *   deno run -A bench/dashboard_scale.ts [N]
 *
 * A measurement, not a test: the figures depend on the machine.
 *
 * @module
 */

import { Celery } from "../mod.ts";
import { Browser } from "../tests/dashboard/cdp.ts";
import { REPO_ROOT, startCeleriacWorker } from "../tests/interop/celeriac_worker.ts";
import { deleteKeysWithPrefix, REDIS_URL } from "../tests/integration/redis_test_tools.ts";

const total = Number(Deno.args[0] ?? 100_000);
const prefix = `bench-dash-${crypto.randomUUID().slice(0, 8)}:`;
const config = {
  task_default_queue: `bench-dash-${crypto.randomUUID().slice(0, 8)}`,
  broker_transport_options: { global_keyprefix: prefix },
  task_ignore_result: true,
};
const env = {
  CELERY_BROKER_URL: REDIS_URL,
  CELERIAC_IT_CONFIG: JSON.stringify(config),
  NO_COLOR: "1",
};

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
}

function residentMb(pid: number): number {
  const line = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmHWM:\s+(\d+)/);
  return line ? Number(line[1]) / 1024 : NaN;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

const dashboard = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "cli.ts", "dashboard", "-A", "tests/interop/worker_app.ts", "--port", "0"],
  cwd: REPO_ROOT,
  env,
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const banner = dashboard.stdout.pipeThrough(new TextDecoderStream()).getReader();
let text = "";
while (!/http:\/\/\S+/.test(text)) {
  const { value, done } = await banner.read();
  if (done) throw new Error(`the dashboard did not start: ${text}`);
  text += value;
}
const url = /http:\/\/\S+/.exec(text)![0];
const app = new Celery("bench", { broker: REDIS_URL, config, setAsCurrent: false });
try {
  await using _worker = await startCeleriacWorker({
    module: "tests/interop/worker_app.ts",
    env,
    pool: "async",
    concurrency: 50,
    args: ["-E", "--prefetch-multiplier", "20"],
  });
  await using page = await Browser.launch();
  await page.goto(`${url}#/${Deno.env.get("PAGE") ?? "tasks"}`);
  await page.waitFor("the page", `document.querySelector("#connection.live")`);
  await page.evaluate(`(() => {
    window.__frames = []; window.__long = [];
    let last = performance.now();
    const tick = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); })
      .observe({ type: "longtask", buffered: false });
  })()`);
  const profiling = Deno.env.get("PROFILE") === "1";
  if (profiling) {
    await page.send("Profiler.enable");
    await page.send("Profiler.start");
  }
  const cpuBefore = cpuSeconds(dashboard.pid);
  const started = performance.now();
  for (let sent = 0; sent < total; sent += 500) {
    const batch = [];
    for (let i = sent; i < Math.min(total, sent + 500); i++) {
      batch.push(app.sendTask("interop.add", [i, 1]));
    }
    await Promise.all(batch);
  }
  const sentSeconds = (performance.now() - started) / 1000;
  const last = await app.sendTask("interop.add", [-1, 1]);
  await page.waitFor(
    "the last task on the page",
    `fetch("/api/task/info/${last.id}").then((r) => r.json()).then((t) => t.state === "SUCCESS")`,
    600_000,
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(dashboard.pid) - cpuBefore;
  if (profiling) {
    const { profile } = await page.send("Profiler.stop") as {
      profile: {
        nodes: {
          id: number;
          callFrame: { functionName: string; url: string; lineNumber: number };
        }[];
        samples: number[];
        timeDeltas: number[];
      };
    };
    const self = new Map<string, number>();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id)!.callFrame;
      const key = `${frame.functionName || "(anon)"} ${
        frame.url.split("/").pop()
      }:${frame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i] / 1000);
    });
    console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 15));
  }
  const frames = await page.evaluate<number[]>("window.__frames");
  const long = await page.evaluate<number[]>("window.__long");
  const events = await page.evaluate<string>(`document.querySelector(".count")?.textContent ?? ""`);
  const report = {
    tasks: total,
    sendSeconds: Number(sentSeconds.toFixed(1)),
    drainSeconds: Number(seconds.toFixed(1)),
    tasksPerSecond: Math.round(total / seconds),
    dashboardEventsSeen: events,
    dashboardCpuSeconds: Number(cpu.toFixed(2)),
    dashboardCpuPercentOfOneCore: Number((cpu / seconds * 100).toFixed(1)),
    dashboardPeakRssMb: Number(residentMb(dashboard.pid).toFixed(0)),
    frames: frames.length,
    frameMsP50: Number(percentile(frames, 0.5).toFixed(1)),
    frameMsP95: Number(percentile(frames, 0.95).toFixed(1)),
    frameMsP99: Number(percentile(frames, 0.99).toFixed(1)),
    frameMsMax: Number(Math.max(...frames).toFixed(1)),
    longTasks: long.length,
    longTaskMsMax: long.length ? Number(Math.max(...long).toFixed(1)) : 0,
    cpus: navigator.hardwareConcurrency,
    loadavg: Deno.loadavg(),
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  await app.close();
  dashboard.kill("SIGTERM");
  await dashboard.status;
  await deleteKeysWithPrefix(prefix);
}
