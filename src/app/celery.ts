/**
 * The Celery app: configuration, the task registry, and the client side of
 * sending tasks and reading results. Connecting happens lazily inside async
 * methods that already do I/O; reading a property never does anything.
 *
 * (Longer than most files: it is the user's entry point, one short method per
 * Celery app method; the work behind each lives in its own module.)
 *
 * @module
 */

import { createResultBackend } from "../backend/resolve.ts";
import type { ResultBackend } from "../backend/types.ts";
import { createBroker } from "../broker/resolve.ts";
import type { Broker, ConnectOptions } from "../broker/types.ts";
import { ConnectionShare } from "../broker/connection_share.ts";
import { ConfigurationError, NoResultBackendError } from "../errors.ts";
import { AsyncResult } from "../task/async_result.ts";
import { currentRequest } from "../task/current_request.ts";
import { EagerResult } from "../task/eager_result.ts";
import type { ApplyOptions, TaskOptions } from "../task/options.ts";
import { runTask } from "../task/run_task.ts";
import { checkArguments } from "../task/arity.ts";
import {
  type BoundTaskBody,
  type BoundTaskFor,
  createTask,
  type PlainTaskBody,
  type Task,
  type TaskBody,
  type TaskDefinition,
  type TaskDispatcher,
  type TaskFor,
} from "../task/task.ts";
import { callerModule } from "./caller_module.ts";
import { defineTask } from "./define_task.ts";
import { eagerRequest } from "../task/eager_request.ts";
import { type CeleryConfig, type ResolvedConfig, Settings } from "./config.ts";
import { environmentUrls } from "./environment.ts";
import { SignalTarget } from "./signal_target.ts";
import { loadConfig, toModuleUrl } from "./config_loader.ts";
import { clearCurrentApp, isStrictMode, setCurrentApp } from "./current_app.ts";
import { defaultEmbeddedUrl } from "./embedded_default.ts";
import { maskUrl } from "./mask_url.ts";
import { holdProcess, whileHoldingProcess } from "./process_hold.ts";
import { TaskRegistry } from "./registry.ts";
import { sendTaskMessage } from "./send_task.ts";
import { nodeOrigin } from "./node_name.ts";
// Types only: the worker and the CLI are loaded when `worker()` / `workerMain()` are called,
// so a client program never loads them (tools/check_layers.ts keeps it so).
import type { CeleryWorker, WorkerOptions } from "../worker/worker.ts";
import {
  addPeriodicTask,
  type PeriodicTaskOptions,
  type PeriodicTaskTarget,
} from "../beat/entry.ts";
import type { ScheduleLike } from "../beat/schedule.ts";
import { applySignatureEagerly, restoreGroup, sendSignature } from "../canvas/app_canvas.ts";
import type { GroupResult } from "../canvas/group_result.ts";
import { builtinTasks } from "../canvas/builtins.ts";
import type { CanvasOptions, Signature } from "../canvas/signature.ts";
import { LamportClock } from "../events/clock.ts";
import { Control } from "../control/control.ts";
import type { CeleryEvent } from "../events/event_types.ts";
import { type AppEventsOptions, appEventStream } from "../events/app_events.ts";
import { sendTaskSentEvents } from "../events/sent_events.ts";

/** Options of `new Celery(main, options)`. */
export interface CeleryOptions {
  /** Broker URL (`broker_url`). */
  broker?: string;
  /** Result backend URL (`result_backend`). */
  backend?: string;
  /**
   * Initial settings under Celery's names (typed: a typo is a type error);
   * old uppercase names are mapped, other uppercase keys are kept as the user's.
   */
  config?: CeleryConfig;
  /**
   * An unknown setting that looks like a mistyped Celery setting throws
   * instead of warning (default: strict mode, `CELERIAC_STRICT=1`).
   */
  strictSettings?: boolean;
  /** Become the current app (default true). */
  setAsCurrent?: boolean;
  /** Modules a worker imports at start (`include`; see `importDefaultModules()`). */
  include?: string[];
  /** Called once when the app is created (Celery's `on_init`). */
  onInit?: (app: Celery) => void;
}

let nextAppNumber = 1;

/**
 * A Celery application.
 *
 * @example
 * ```ts
 * import { Celery } from "../../mod.ts";
 * const app = new Celery("proj", { broker: "memory://", backend: "memory://", setAsCurrent: false });
 * const add = app.task(function add(x: number, y: number) { return x + y; });
 * console.assert(add.name === "proj.add");
 * console.assert(await add(2, 3) === 5);
 * ```
 */
export class Celery extends SignalTarget implements TaskDispatcher, AsyncDisposable {
  /** The app's main name: task names default to `<main>.<function name>`. */
  readonly main: string;
  /** Settings under Celery's names. */
  readonly conf: Settings;
  /** Registered tasks. */
  readonly tasks: TaskRegistry = new TaskRegistry();
  /** A random name for this client's reply queue (Celery's oid). */
  readonly oid: string = crypto.randomUUID();
  /** This node's Lamport clock (events and remote control). */
  readonly clock: LamportClock = new LamportClock();
  /** Remote control of workers: `inspect()`, `revoke()`, `rateLimit()`, `broadcast()`, `ping()`. */
  readonly control: Control = new Control({
    getBroker: () => this.getBroker(),
    resolvedConfig: () => this.conf.resolve(),
    clock: this.clock,
  });
  readonly #number = nextAppNumber++;
  #broker?: Promise<Broker>;
  #backend?: Promise<ResultBackend | undefined>;
  /**
   * How the app opens its broker and backend: they let the process exit while
   * idle (see `process_hold.ts`) and share a connection where they can
   * (`rpc://` results over the broker's RabbitMQ connection).
   */
  readonly #connections: ConnectOptions = { keepProcessAlive: false, share: new ConnectionShare() };
  #finalized = false;
  #holdUntilClose?: () => void;
  /** URL of the module that created this app (worker threads import it), when known. */
  readonly definedIn: string | undefined = callerModule();

  /** Creates an app; it becomes the current app unless `setAsCurrent` is false. */
  constructor(main = "__main__", options: CeleryOptions = {}) {
    super();
    this.main = main;
    this.conf = new Settings({}, { strict: options.strictSettings ?? isStrictMode() });
    this.conf.update(options.config ?? {});
    this.conf.update({
      broker_url: options.broker,
      result_backend: options.backend,
      include: options.include,
    });
    // As in Celery, CELERY_BROKER_URL / CELERY_RESULT_BACKEND win (see brokerUrl()).
    this.conf.update(environmentUrls());
    for (const task of builtinTasks(this)) this.tasks.registerBuiltin(task);
    if (options.setAsCurrent ?? true) setCurrentApp(this);
    sendTaskSentEvents(this);
    options.onInit?.(this);
  }

  /**
   * Defines a task whose body receives its arguments. The task is typed by
   * the body: parameter types (defaults included) and the awaited return type.
   */
  task<F extends PlainTaskBody>(fn: F, options?: TaskOptions & { bind?: false }): TaskFor<F>;
  /** Defines a bound task: its body's first argument is the task itself (`self`). */
  task<F extends BoundTaskBody>(fn: F, options: TaskOptions & { bind: true }): BoundTaskFor<F>;
  task(fn: TaskBody, options: TaskOptions = {}): Task {
    const task = createTask(defineTask(fn, options, this.main), () => this);
    this.tasks.register(task);
    return task;
  }

  /** Applies settings from a module specifier, an object or a class (Celery's `config_from_object`). */
  async configFromObject(source: string | object, options: { namespace?: string } = {}) {
    this.conf.update(await loadConfig(source), options.namespace);
  }

  /** Applies settings from the module named by an environment variable. */
  async configFromEnvvar(variable: string, options: { silent?: boolean } = {}): Promise<boolean> {
    const specifier = Deno.env.get(variable);
    if (!specifier) {
      if (options.silent) return false;
      throw new ConfigurationError(
        `The environment variable ${JSON.stringify(variable)} is not set: ` +
          `it must name a configuration module.`,
      );
    }
    await this.configFromObject(specifier);
    return true;
  }

  /**
   * Adds a periodic task to `beat_schedule` from code (Celery's
   * `add_periodic_task`): `app.addPeriodicTask(10, add, { args: [2, 2] })`.
   * Returns the entry's name (default: the call's repr, `proj.add(2, 2)`).
   */
  addPeriodicTask(
    schedule: ScheduleLike,
    task: PeriodicTaskTarget,
    options?: PeriodicTaskOptions,
  ): string {
    const table = { ...this.conf.beat_schedule };
    const name = addPeriodicTask(table, schedule, task, options);
    this.conf.update({ beat_schedule: table });
    return name;
  }

  /**
   * Imports modules so their tasks register (Django's autodiscovery). A
   * relative specifier (`./tasks/email.ts`) is resolved against the module
   * that created the app, as an `import` there would be; pass
   * `import.meta.resolve(...)` URLs to be explicit. Discovered modules should
   * define their tasks with `sharedTask` (they must not import a module that
   * is still waiting on this call).
   */
  async autodiscoverTasks(moduleSpecifiers: readonly string[]): Promise<void> {
    const base = this.definedIn ?? toModuleUrl("./");
    for (const specifier of moduleSpecifiers) {
      const url = /^\.\.?\//.test(specifier)
        ? new URL(specifier, base).href
        : toModuleUrl(specifier);
      try {
        await import(url);
      } catch (error) {
        throw new ConfigurationError(
          `Cannot import task module ${JSON.stringify(specifier)} (${url}): ` +
            `${(error as Error)?.message ?? error}`,
          { cause: error },
        );
      }
    }
  }

  /**
   * Imports the modules named by the `imports` and `include` settings, as a
   * Celery worker does at start (relative specifiers as in `autodiscoverTasks`).
   */
  async importDefaultModules(): Promise<void> {
    await this.autodiscoverTasks([...this.conf.imports, ...this.conf.include]);
  }

  /** Validates the configuration; after this the app is ready to be used. */
  finalize(): this {
    this.conf.resolve();
    this.#finalized = true;
    return this;
  }

  /** True once `finalize()` ran. */
  get finalized(): boolean {
    return this.#finalized;
  }

  /**
   * The broker URL this app uses: `CELERY_BROKER_URL` when set (it wins, as
   * in Celery), else `broker_url`, else the embedded default.
   */
  brokerUrl(): string {
    return environmentUrls().broker_url ?? this.conf.broker_url ?? defaultEmbeddedUrl();
  }

  /**
   * The result backend URL (`CELERY_RESULT_BACKEND`, else `result_backend`),
   * or null when results are disabled: a broker is configured but no backend.
   */
  backendUrl(): string | null {
    const env = environmentUrls();
    const backend = env.result_backend ?? this.conf.result_backend;
    if (backend) return backend;
    return (env.broker_url ?? this.conf.broker_url) ? null : defaultEmbeddedUrl();
  }

  /**
   * The validated settings with the URLs this app really uses in place
   * (`brokerUrl()`, `backendUrl()`: the environment's, the settings', or the
   * embedded default), resolved here once for every connection it opens.
   */
  #connectionConfig(): ResolvedConfig {
    const config = this.conf.resolve();
    const broker_url = this.brokerUrl();
    const result_backend = this.backendUrl();
    if (config.broker_url === broker_url && config.result_backend === result_backend) return config;
    return Object.freeze({ ...config, broker_url, result_backend });
  }

  /** The broker URL with its password masked. */
  describeBroker(): string {
    return maskUrl(this.brokerUrl());
  }

  /**
   * Connects the broker (once) and returns it. The app's connections do not
   * keep the process alive while idle (a script that sent a task exits by
   * itself); a broker taken out of the app with this method may be used in
   * any way, so from now on the process is kept alive until `close()`.
   */
  async getBroker(): Promise<Broker> {
    this.#holdUntilClose ??= holdProcess();
    return await this.openBroker();
  }

  /**
   * Connects the result backend (once); undefined when results are disabled.
   * Like `getBroker()`, it keeps the process alive until `close()`.
   */
  async getBackend(): Promise<ResultBackend | undefined> {
    this.#holdUntilClose ??= holdProcess();
    return await this.openBackend();
  }

  /** Like `getBackend()`, but throws Celery's "No result backend is configured." when disabled. */
  async requireBackend(): Promise<ResultBackend> {
    const backend = await this.getBackend();
    if (!backend) throw new NoResultBackendError();
    return backend;
  }

  /**
   * Connects the broker (once) without keeping the process alive: for code
   * that holds the process itself while it waits (sending, the canvas).
   */
  openBroker(): Promise<Broker> {
    this.#broker ??= createBroker(this.brokerUrl(), this.#connectionConfig(), this.#connections)
      .catch((error) => {
        this.#broker = undefined;
        throw error;
      });
    return this.#broker;
  }

  /**
   * Connects the result backend (once) without keeping the process alive;
   * undefined when results are disabled. See `openBroker()`.
   */
  openBackend(): Promise<ResultBackend | undefined> {
    if (this.#backend) return this.#backend; // every send and result asks: no environment read then
    const url = this.backendUrl();
    if (!url) return Promise.resolve(undefined);
    this.#backend ??= createResultBackend(url, this.#connectionConfig(), this.#connections)
      .catch((error) => {
        this.#backend = undefined;
        throw error;
      });
    return this.#backend;
  }

  /** The backend for AsyncResults: opened without holding the process (their calls hold it). */
  readonly #resultBackend = async (): Promise<ResultBackend> => {
    const backend = await this.openBackend();
    if (!backend) throw new NoResultBackendError();
    return backend;
  };

  /** Sends a task by name, without importing its code. */
  async sendTask<R = unknown>(
    name: string,
    args: unknown[] = [],
    options: ApplyOptions = {},
    task?: TaskDefinition,
  ): Promise<AsyncResult<R>> {
    if (task) checkArguments(task, args, options.kwargs ?? {}); // Celery's `typing`
    const config = this.conf.resolve();
    if (config.task_always_eager && task) {
      return await this.applyEager(task, args, options) as unknown as AsyncResult<R>;
    }
    return await whileHoldingProcess(() => this.#send<R>(name, args, options, task, config));
  }

  async #send<R>(
    name: string,
    args: unknown[],
    options: ApplyOptions,
    task: TaskDefinition | undefined,
    config: ResolvedConfig,
  ): Promise<AsyncResult<R>> {
    const [broker, backend] = await Promise.all([this.openBroker(), this.openBackend()]);
    const parent = currentRequest();
    const { id, ignored } = await sendTaskMessage(name, args, options, task, {
      config,
      broker,
      backend,
      oid: this.oid,
      origin: nodeOrigin(),
      signals: this,
      parent: parent && !parent.isEager ? { id: parent.id, rootId: parent.rootId } : undefined,
    });
    return new AsyncResult<R>(id, this.#resultBackend, {
      taskName: name,
      ignored,
      revoke: (taskId, revokeOptions) => this.control.revoke(taskId, revokeOptions),
    });
  }

  /** Runs a task in this process and returns its `EagerResult` (Celery's `apply`). */
  /**
   * Sends a signature (any canvas) through this app; `sig.applyAsync()`
   * calls it. Returns an `AsyncResult` (with `parent`) or a `GroupResult`.
   */
  async applySignature(
    sig: Signature,
    args: unknown[],
    kwargs: Record<string, unknown>,
    options: CanvasOptions,
  ): Promise<unknown> {
    return await whileHoldingProcess(() => sendSignature(this, sig, args, kwargs, options));
  }

  /** Runs a signature (any canvas) in this process; `sig.apply()` calls it. */
  async applySignatureEagerly(
    sig: Signature,
    args: unknown[],
    kwargs: Record<string, unknown>,
  ): Promise<unknown> {
    return await applySignatureEagerly(this, sig, args, kwargs);
  }

  async applyEager(
    task: TaskDefinition,
    args: unknown[],
    options: ApplyOptions = {},
  ): Promise<EagerResult> {
    const config = this.conf.resolve();
    const request = eagerRequest(task.name, args, options);
    const outcome = await runTask(task, request, new AbortController().signal, {
      defaultRetryDelay: config.task_default_retry_delay,
      maxRetries: config.task_max_retries,
    });
    const result = new EagerResult(request.id, task.name, outcome);
    if (outcome.state === "FAILURE" && config.task_eager_propagates) await result.get();
    return result;
  }

  /** Starts a worker for this app in this process; resolves once it is consuming. */
  async worker(options: WorkerOptions = {}): Promise<CeleryWorker> {
    const { CeleryWorker } = await import("../worker/worker.ts");
    const worker = new CeleryWorker(this, options);
    await worker.start();
    return worker;
  }

  /**
   * Runs a worker as `celeriac worker` would with these arguments (`-c 2 -Q a,b
   * --loglevel INFO …`), until SIGINT/SIGTERM; returns the exit code.
   */
  async workerMain(args: string[] = []): Promise<number> {
    const { runWorkerCommand } = await import("../cli/worker_command.ts");
    return await runWorkerCommand(this, args);
  }

  /**
   * The cluster's events (worker heartbeats, task events) as a stream, also
   * an async iterable: `for await (const event of app.events()) …`. Feed them
   * to a `State` for a picture of workers and tasks.
   */
  events(options: AppEventsOptions = {}): ReadableStream<CeleryEvent> {
    return appEventStream(this.#eventsHost(), options);
  }

  /** The resolved settings (same as `conf.resolve()`). */
  resolvedConfig(): ResolvedConfig {
    return this.conf.resolve();
  }

  #eventsHost() {
    return {
      getBroker: () => this.getBroker(),
      resolvedConfig: () => this.conf.resolve(),
      clock: this.clock,
      broadcastCast: (command: string) => this.control.broadcast(command),
    };
  }

  /** A handle on any task's result by id (Celery's `app.AsyncResult(id)`). */
  /**
   * A group saved with `GroupResult.save()` — by celeriac or Python Celery —
   * or undefined (Celery's `GroupResult.restore(id)`; Redis results).
   */
  async restoreGroup<R = unknown>(id: string): Promise<GroupResult<R> | undefined> {
    return await whileHoldingProcess(() => restoreGroup<R>(this, id));
  }

  asyncResult<R = unknown>(id: string, taskName?: string): AsyncResult<R> {
    return new AsyncResult<R>(id, this.#resultBackend, {
      taskName,
      revoke: (taskId, revokeOptions) => this.control.revoke(taskId, revokeOptions),
    });
  }

  /** Closes the broker and result backend connections. */
  async close(): Promise<void> {
    const broker = this.#broker;
    const backend = this.#backend;
    const hold = this.#holdUntilClose;
    this.#broker = undefined;
    this.#backend = undefined;
    this.#holdUntilClose = undefined;
    await whileHoldingProcess(() =>
      Promise.allSettled([
        broker?.then((b) => b.close()),
        backend?.then((b) => b?.close()),
      ])
    );
    hold?.();
    clearCurrentApp(this);
  }

  /** Closes connections (`await using app = new Celery(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** `<Celery proj at 0x…>`. */
  override toString(): string {
    return `<Celery ${this.main} at 0x${(0x7f0000 + this.#number).toString(16)}>`;
  }
}
