/**
 * A private `redis-server` for tests that stop, restart or reconfigure Redis
 * (restart, TLS, sentinel), so the shared server other tests use is never
 * touched.
 *
 * @module
 */

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** True when `redis-server` is installed. */
export async function haveRedisServer(): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("redis-server", { args: ["--version"] }).output();
    return code === 0;
  } catch {
    return false;
  }
}

/** A redis-server child process on its own port and directory. */
export class PrivateRedis {
  /** Its port. */
  readonly port: number;
  /** Its data directory. */
  readonly dir: string;
  readonly #args: string[];
  #child?: Deno.ChildProcess;

  private constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.#args = args;
  }

  /** Starts a server with `args` added to its command line (AOF on, so restarts keep data). */
  static async start(args: string[] = [], port: number = freePort()): Promise<PrivateRedis> {
    const dir = await Deno.makeTempDir({ prefix: "celeriac-redis-" });
    const server = new PrivateRedis(port, dir, args);
    await server.restart();
    return server;
  }

  /** `redis://127.0.0.1:<port>/0`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Starts (again) on the same port and directory; resolves once it accepts connections. */
  async restart(waitPort: number = this.port): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        ...this.#args,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    while (true) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: waitPort })).close();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Stops the server (SIGTERM: Redis flushes its AOF and exits). */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.kill("SIGTERM");
    await child.status;
  }

  /** Stops the server and deletes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
