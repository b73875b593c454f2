/**
 * The dashboard in a real browser: headless Chromium, driven over the
 * DevTools Protocol, against a dashboard, a celeriac worker process and a
 * Python Celery 5.2.6 worker, on Redis and on RabbitMQ. The page loads, both
 * workers appear, tasks sent by the test show up
 * and change state live, a revoke from the page stops a countdown task, a
 * failed task shows its traceback, and script in args and results renders as
 * text. With CELERIAC_SCREENSHOTS=1 it also saves the pages' screenshots
 * into docs/.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { startDashboard } from "../../src/dashboard/server.ts";
import { deleteKeysWithPrefix, REDIS_URL } from "../integration/redis_test_tools.ts";
import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { startPythonWorker } from "../interop/python/harness.ts";
import { REPO_ROOT, startCeleriacWorker } from "../interop/celeriac_worker.ts";
import { isolatedSettings } from "../interop/events_control_scenarios.ts";
import { IN_CI, serviceAvailable, uniqueName } from "../services.ts";
import { Browser, CHROMIUM } from "./cdp.ts";

const chromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (IN_CI && !chromium) {
  throw new Error(`Chromium is missing at ${CHROMIUM} (apt install chromium)`);
}
const redis = chromium && await serviceAvailable("redis");
const rabbitmq = chromium && await serviceAvailable("rabbitmq");
const screenshots = Deno.env.get("CELERIAC_SCREENSHOTS") === "1";

const XSS_SCRIPT = "<script>window.__xss = 1</script>";
const XSS_IMG = `"><img src=x onerror="window.__xss = 2">`;

interface Cluster {
  broker: string;
  backend: string;
  config: Record<string, unknown>;
  cleanUp(): Promise<void>;
}

function redisCluster(): Cluster {
  const prefix = `${uniqueName("it-dash-ui")}:`;
  return {
    broker: REDIS_URL,
    backend: REDIS_URL,
    config: isolatedSettings({ broker_transport_options: { global_keyprefix: prefix } }),
    cleanUp: async () => {
      await deleteKeysWithPrefix(prefix);
    },
  };
}

function amqpCluster(): Cluster {
  const config = isolatedSettings();
  const control = config.control_exchange as string;
  return {
    broker: AMQP_URL,
    backend: "rpc://",
    config,
    cleanUp: () =>
      deleteAmqpEntities([
        config.task_default_queue as string,
        config.event_exchange as string,
        `${control}.pidbox`,
        `reply.${control}.pidbox`,
      ]),
  };
}

for (
  const [broker, available, cluster] of [["Redis", redis, redisCluster], [
    "RabbitMQ",
    rabbitmq,
    amqpCluster,
  ]] as const
) {
  Deno.test({
    name:
      `dashboard in Chromium on ${broker}: live workers and tasks, revoke from the page, traceback, no XSS`,
    ignore: !available,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const { broker: url, backend, config, cleanUp } = cluster();
      const app = new Celery("dash-ui", { broker: url, backend, config, setAsCurrent: false });
      const dashboard = await startDashboard(app, { port: 0, basicAuth: ["ops:s3cret"] });
      const node = `${uniqueName("ui")}@test`;
      try {
        await using _worker = await startCeleriacWorker({
          module: "tests/interop/worker_app.ts",
          env: {
            CELERY_BROKER_URL: url,
            CELERY_RESULT_BACKEND: backend,
            CELERIAC_IT_CONFIG: JSON.stringify(config),
          },
          hostname: node,
          pool: "async",
          concurrency: 4,
          args: ["-E"],
        });
        const pythonNode = `${uniqueName("ui-py")}@${Deno.hostname()}`;
        await using _python = await startPythonWorker({
          env: { broker: url, backend, queue: config.task_default_queue as string, config },
          hostname: pythonNode,
          heartbeat: true,
          args: ["-E"],
        });
        await using page = await Browser.launch({ authorization: `Basic ${btoa("ops:s3cret")}` });
        const shot = async (name: string) => {
          if (screenshots && broker === "Redis") {
            await page.screenshot(`${REPO_ROOT}docs/dashboard-${name}.png`);
          }
        };

        // The page loads and the worker appears, online.
        await page.goto(`${dashboard.url}#/workers`);
        await page.waitFor("the live stream", `document.querySelector("#connection.live")`);
        for (const name of [node, pythonNode]) {
          await page.waitFor(
            `${name} online`,
            `document.querySelector('[data-worker=${JSON.stringify(name)}] [data-online="true"]')`,
          );
        }

        // Tasks sent by the test show up and change state live.
        await page.goto(`${dashboard.url}#/tasks`);
        const slow = await app.sendTask("interop.sleep", [1.5]);
        const row = (id: string) => `document.querySelector('[data-task-id="${id}"] [data-state]')`;
        await page.waitFor("the slow task running", `${row(slow.id)}?.dataset.state === "STARTED"`);
        await page.waitFor("the slow task done", `${row(slow.id)}?.dataset.state === "SUCCESS"`);
        const ids: string[] = [];
        for (let i = 0; i < 8; i++) ids.push((await app.sendTask("interop.add", [i, i])).id);
        const xssResult = await app.sendTask("interop.greet", [XSS_SCRIPT], {
          kwargs: { punctuation: XSS_IMG },
        });
        const failed = await app.sendTask("interop.fail", [XSS_IMG]);
        await page.waitFor("the XSS result", `${row(xssResult.id)}?.dataset.state === "SUCCESS"`);
        await page.waitFor("the failure", `${row(failed.id)}?.dataset.state === "FAILURE"`);
        for (const id of ids) {
          await page.waitFor(`task ${id}`, `${row(id)}?.dataset.state === "SUCCESS"`);
        }

        // Script in args and results is text: shown literally, never run.
        const rowText = await page.evaluate<string>(
          `document.querySelector('[data-task-id="${xssResult.id}"]').textContent`,
        );
        assert.ok(rowText.includes(XSS_SCRIPT), rowText);
        assert.ok(rowText.includes(XSS_IMG), rowText);
        assert.equal(await page.evaluate("window.__xss ?? null"), null);
        assert.equal(
          await page.evaluate("document.querySelectorAll('main img, main script').length"),
          0,
        );
        await shot("tasks");

        // A failed task shows its traceback (and its script-looking args as text).
        await page.goto(`${dashboard.url}#/task/${failed.id}`);
        const traceback = await page.waitFor<string>(
          "the traceback",
          `document.querySelector("#traceback")?.textContent`,
        );
        assert.match(traceback, /ValueError/);
        assert.ok(
          (await page.evaluate<string>(`document.querySelector("#task-args").textContent`))
            .includes(XSS_IMG),
        );
        assert.equal(await page.evaluate("window.__xss ?? null"), null);
        await shot("task");

        // A task's page shows its children and the graph of its family, live:
        // the children are sent after the page is open.
        const root = ids[0];
        await page.goto(`${dashboard.url}#/task/${root}`);
        await page.waitFor(
          "the root task's page",
          `document.querySelector("[data-state]")?.dataset.state === "SUCCESS"`,
        );
        await Promise.all(
          [1, 2].map((n) => app.sendTask("interop.add", [n, 0], { parentId: root, rootId: root })),
        );
        await page.waitFor(
          "the graph with both children",
          `document.querySelectorAll("#graph li li").length === 2`,
        );

        // A revoke from the page stops a countdown task.
        const countdown = await app.sendTask("interop.sleep", [0.1], { countdown: 3 });
        await page.goto(`${dashboard.url}#/task/${countdown.id}`);
        await page.waitFor(
          "the countdown task received",
          `document.querySelector("[data-state]")?.dataset.state === "RECEIVED"`,
        );
        await page.click("#revoke");
        await page.click("#confirm-action");
        await page.waitFor(
          "the revoke answer",
          `document.querySelector("#notice")?.textContent.includes("Revoked")`,
        );
        await page.waitFor(
          "the countdown task revoked",
          `document.querySelector("[data-state]")?.dataset.state === "REVOKED"`,
        );
        const after = dashboard.monitor.state.tasks.get(countdown.id);
        assert.equal(after?.started, undefined, "the revoked task never started");

        if (screenshots) {
          await page.goto(`${dashboard.url}#/workers`);
          await page.waitFor("the worker row", `document.querySelector("[data-worker]")`);
          await shot("workers");
          await page.goto(`${dashboard.url}#/worker/${encodeURIComponent(node)}`);
          await page.waitFor("the worker's config", `document.querySelector("#conf")`);
          await shot("worker");
          await page.goto(`${dashboard.url}#/queues`);
          await page.waitFor("the queues", `document.querySelector("#queues tbody tr")`);
          await shot("queues");
          for (let i = 0; i < 300; i++) await app.sendTask("interop.sleep", [Math.random() / 20]);
          await page.waitFor(
            "a busy second in the charts",
            `fetch("/api/charts").then((r) => r.json()).then((p) => p.some((s) => s.succeeded >= 100))`,
          );
          await page.goto(`${dashboard.url}#/charts`);
          await page.waitFor(
            "the charts",
            `document.querySelectorAll(".chart canvas").length === 2`,
          );
          await shot("charts");
        }
      } finally {
        await dashboard.close();
        await app.close();
        await cleanUp();
      }
    },
  });
}
