/**
 * A TCP proxy in front of a shared service, started when a test wants the
 * service to "come up": a process pointed at the proxy's port finds nothing
 * there until `TcpProxy.start`, and the shared server is never stopped.
 *
 * @module
 */

/** Forwards connections on `port` to `target` once started. */
export class TcpProxy implements AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  readonly #target: Deno.ConnectOptions;
  #listener?: Deno.Listener;
  #accepting?: Promise<void>;
  readonly #connections = new Set<Deno.Conn>();

  /** A proxy for `target` on `port` (nothing listens before `start()`). */
  constructor(port: number, target: Deno.ConnectOptions) {
    this.port = port;
    this.#target = target;
  }

  /** Starts listening and forwarding. */
  start(): void {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#accepting = this.#accept(this.#listener);
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    try {
      for await (const client of listener) void this.#forward(client);
    } catch {
      // closed
    }
  }

  async #forward(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect(this.#target);
    } catch {
      client.close();
      return;
    }
    this.#connections.add(client).add(server);
    const closeBoth = () => {
      for (const conn of [client, server]) {
        if (this.#connections.delete(conn)) {
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      }
    };
    await Promise.all([
      client.readable.pipeTo(server.writable).catch(() => {}),
      server.readable.pipeTo(client.writable).catch(() => {}),
    ]).finally(closeBoth);
  }

  /** Stops listening and cuts every forwarded connection. */
  async close(): Promise<void> {
    this.#listener?.close();
    await this.#accepting;
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    this.#connections.clear();
  }

  /** `await using proxy = new TcpProxy(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
