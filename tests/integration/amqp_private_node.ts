/**
 * A throwaway RabbitMQ node for tests that stop and start the broker
 * (`rabbitmqctl stop_app` / `start_app`), so they never disturb the shared
 * RabbitMQ other tests use. It runs from a temporary directory on free
 * ports and is removed by `stop()`.
 *
 * @module
 */

import { IN_CI } from "../services.ts";
import { rabbitmqctl } from "./amqp_helpers.ts";

const SERVER = "/usr/sbin/rabbitmq-server";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Whether a private node can be started; under CI a missing server is an error. */
export async function privateNodeAvailable(): Promise<boolean> {
  try {
    await Deno.stat(SERVER);
    return true;
  } catch {
    const reason = `${SERVER} is not installed, so no private RabbitMQ node can be started`;
    if (IN_CI) throw new Error(`${reason}: CI=true, so this is a failure, not a skip.`);
    console.warn(`SKIPPED: ${reason}.`);
    return false;
  }
}

/** A RabbitMQ node of our own. */
export class PrivateRabbit implements AsyncDisposable {
  /** `amqp://guest:guest@127.0.0.1:<port>//`. */
  readonly url: string;
  /** Node name for `rabbitmqctl -n`. */
  readonly node: string;
  readonly #dir: string;
  readonly #child: Deno.ChildProcess;

  private constructor(url: string, node: string, dir: string, child: Deno.ChildProcess) {
    this.url = url;
    this.node = node;
    this.#dir = dir;
    this.#child = child;
  }

  /**
   * Starts a node and waits until it accepts connections (about 5 s).
   * `config` lines are added to its rabbitmq.conf (such as `consumer_timeout = 3000`),
   * `advancedConfig` is its advanced.config (Erlang terms).
   */
  static async start(
    options: { config?: string; advancedConfig?: string } = {},
  ): Promise<PrivateRabbit> {
    const dir = await Deno.makeTempDir({ prefix: "celeriac-rabbit-" });
    const port = freePort();
    const node = `celeriac_${crypto.randomUUID().slice(0, 8)}@localhost`;
    await Deno.writeTextFile(
      `${dir}/rabbitmq.conf`,
      `listeners.tcp.local = 127.0.0.1:${port}\n${options.config ?? ""}\n`,
    );
    await Deno.writeTextFile(`${dir}/advanced.config`, options.advancedConfig ?? "[].\n");
    await Deno.writeTextFile(`${dir}/enabled_plugins`, "[].\n");
    await Deno.writeTextFile(`${dir}/rabbitmq-env.conf`, "");
    // rabbitmq-server drops to the rabbitmq user when started as root.
    await new Deno.Command("chown", { args: ["-R", "rabbitmq:rabbitmq", dir] }).output()
      .catch(() => undefined);
    const child = new Deno.Command(SERVER, {
      env: {
        RABBITMQ_NODENAME: node,
        RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq`,
        RABBITMQ_MNESIA_BASE: `${dir}/mnesia`,
        RABBITMQ_LOG_BASE: `${dir}/log`,
        RABBITMQ_DIST_PORT: String(freePort()),
        RABBITMQ_ENABLED_PLUGINS_FILE: `${dir}/enabled_plugins`,
        RABBITMQ_PID_FILE: `${dir}/pid`,
        RABBITMQ_CONF_ENV_FILE: `${dir}/rabbitmq-env.conf`,
        RABBITMQ_ADVANCED_CONFIG_FILE: `${dir}/advanced.config`,
        HOME: "/var/lib/rabbitmq",
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const rabbit = new PrivateRabbit(`amqp://guest:guest@127.0.0.1:${port}//`, node, dir, child);
    const deadline = Date.now() + 30_000;
    while (!(await rabbit.#answers(port))) {
      if (Date.now() > deadline) {
        await rabbit.stop();
        throw new Error(`The private RabbitMQ node ${node} did not start within 30 s.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await rabbitmqctl(["await_startup"], node);
    return rabbit;
  }

  async #answers(port: number): Promise<boolean> {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      return false;
    }
  }

  /** `rabbitmqctl stop_app`: every connection drops, durable queues keep persistent messages. */
  async stopApp(): Promise<void> {
    await rabbitmqctl(["stop_app"], this.node);
  }

  /** `rabbitmqctl start_app`. */
  async startApp(): Promise<void> {
    await rabbitmqctl(["start_app"], this.node);
  }

  /** Stops the node and deletes its directory. */
  async stop(): Promise<void> {
    await rabbitmqctl(["stop"], this.node).catch(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
    });
    await this.#child.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /** Same as `stop()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
