/**
 * Headless Chromium (Debian's `/usr/bin/chromium`) driven over the Chrome
 * DevTools Protocol from Deno: a WebSocket to the browser, one page, and
 * the few commands the browser test needs (navigate, evaluate, wait for a
 * condition, click, screenshot). No puppeteer, no browser download.
 *
 * @module
 */

/** The Chromium binary (CHROMIUM overrides). */
export const CHROMIUM: string = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** A page in a headless Chromium. */
export class Browser implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #socket: WebSocket;
  readonly #profile: string;
  readonly #pending = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
  #nextId = 1;
  /** The page's errors and log entries, for failure messages. */
  readonly logs: string[] = [];
  #session = "";

  private constructor(child: Deno.ChildProcess, socket: WebSocket, profile: string) {
    this.#child = child;
    this.#socket = socket;
    this.#profile = profile;
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.method === "Runtime.exceptionThrown" || data.method === "Log.entryAdded") {
        this.logs.push(JSON.stringify(data.params).slice(0, 1000));
      }
      const waiting = data.id !== undefined ? this.#pending.get(data.id) : undefined;
      if (!waiting) return;
      this.#pending.delete(data.id);
      if (data.error) waiting.reject(new Error(`CDP: ${data.error.message}`));
      else waiting.resolve(data.result);
    };
  }

  /** Starts Chromium with one blank page; `headers` go with every request of the page. */
  static async launch(headers: Record<string, string> = {}): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "celeriac-chromium-" });
    const child = new Deno.Command(CHROMIUM, {
      args: [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--window-size=1280,860",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const url = await devtoolsUrl(child.stderr);
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    const browser = new Browser(child, socket, profile);
    const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await browser.send("Target.attachToTarget", { targetId, flatten: true });
    browser.#session = sessionId as string;
    await browser.send("Page.enable");
    await browser.send("Network.enable");
    await browser.send("Runtime.enable");
    await browser.send("Log.enable");
    if (Object.keys(headers).length) await browser.send("Network.setExtraHTTPHeaders", { headers });
    return browser;
  }

  /** Sends one CDP command (to the page once attached). */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const waiting = Promise.withResolvers<Record<string, unknown>>();
    this.#pending.set(id, waiting);
    const message: Record<string, unknown> = { id, method, params };
    if (this.#session) message.sessionId = this.#session;
    this.#socket.send(JSON.stringify(message));
    return waiting.promise;
  }

  /** Opens `url` in the page. */
  async goto(url: string): Promise<void> {
    await this.send("Page.navigate", { url });
  }

  /** Evaluates `expression` in the page; returns its value. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const answer = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (answer.exceptionDetails) {
      throw new Error(`page error: ${JSON.stringify(answer.exceptionDetails)}`);
    }
    return (answer.result as { value: T }).value;
  }

  /** Polls `expression` until it is truthy; returns its value, or throws naming `what`. */
  async waitFor<T = unknown>(what: string, expression: string, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    while (true) {
      const value = await this.evaluate<T>(expression).catch(() => undefined);
      if (value) return value;
      if (Date.now() > deadline) {
        const text = await this.evaluate<string>("document.body?.innerText ?? ''").catch(() => "");
        throw new Error(
          `Timed out waiting for ${what}; the page shows:\n${text.slice(0, 2000)}\nlog:\n${
            this.logs.join("\n")
          }`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Clicks the element `selector` names (waiting for it to be there and enabled). */
  async click(selector: string): Promise<void> {
    const q = JSON.stringify(selector);
    await this.waitFor(
      `${selector} to be clickable`,
      `(() => { const e = document.querySelector(${q}); return !!e && !e.disabled; })()`,
    );
    await this.evaluate(`document.querySelector(${q}).click()`);
  }

  /** Saves a PNG of the page to `path`. */
  async screenshot(path: string): Promise<void> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    await Deno.writeFile(path, Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0)));
  }

  /** Closes the browser and removes its profile. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#socket.close();
    } catch {
      // closed
    }
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // gone
    }
    await this.#child.status;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}

/** Reads Chromium's stderr until it prints its DevTools WebSocket URL. */
async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stderr.getReader();
  const timer = setTimeout(() => void reader.cancel(), 20_000);
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`Chromium did not start:\n${text}`);
      text += decoder.decode(value, { stream: true });
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (match) {
        // Keep draining stderr so Chromium never blocks on a full pipe.
        (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
        })();
        return match[1];
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
