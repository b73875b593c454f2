/**
 * An `EventTarget` whose listeners cannot crash the process: in Deno an
 * exception thrown by a listener during `dispatchEvent` is an uncaught error
 * that ends the program. Signal receivers are user code, so each is wrapped:
 * what it throws is logged (as Celery logs a failing signal receiver) and the
 * worker goes on.
 *
 * @module
 */

import { getLogger } from "../log.ts";
import type { SignalEvent, SignalName } from "./signals.ts";

const log = getLogger("signals");

type Listener = EventListenerOrEventListenerObject;

/** An `EventTarget` that logs, instead of rethrowing, what its listeners throw. */
export class SignalTarget extends EventTarget {
  readonly #wrapped = new WeakMap<Listener, EventListener>();

  /**
   * Adds a receiver for one of Celery's signals, typed by its payload:
   * `app.addEventListener("task_success", (event) => event.detail.result)`.
   * An error it throws is logged, never propagated.
   */
  override addEventListener<K extends SignalName>(
    type: K,
    listener: (event: SignalEvent<K>) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Adds a listener for any event type; an error it throws is logged, never propagated. */
  override addEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener | ((event: never) => unknown) | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (!listener) return;
    const key = listener as Listener;
    let wrapped = this.#wrapped.get(key);
    if (!wrapped) {
      wrapped = (event: Event) => {
        try {
          const result: unknown = typeof key === "function"
            ? key.call(this, event)
            : key.handleEvent(event);
          // An async listener's rejection is reported the same way.
          if (result && typeof (result as Promise<unknown>).catch === "function") {
            (result as Promise<unknown>).catch((error) => report(type, error));
          }
        } catch (error) {
          report(type, error);
        }
      };
      this.#wrapped.set(key, wrapped);
    }
    super.addEventListener(type, wrapped, options);
  }

  /** Removes a signal receiver added with `addEventListener`. */
  override removeEventListener<K extends SignalName>(
    type: K,
    listener: (event: SignalEvent<K>) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Removes a listener added with `addEventListener`. */
  override removeEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener | ((event: never) => unknown) | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (!listener) return;
    const key = listener as Listener;
    super.removeEventListener(type, this.#wrapped.get(key) ?? key, options);
  }
}

function report(type: string, error: unknown): void {
  const text = error instanceof Error ? error.stack ?? error.message : String(error);
  log.error(`Signal handler for ${type} raised: ${text}`);
}
