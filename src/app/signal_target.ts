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

/** Capture flags a listener was added with: bit 1 without capture, bit 2 with. */
function captureBit(options?: boolean | EventListenerOptions): number {
  const capture = typeof options === "boolean" ? options : options?.capture ?? false;
  return capture ? 2 : 1;
}

/**
 * An `EventTarget` that logs, instead of rethrowing, what its listeners
 * throw, and knows which event types have listeners, so a signal nobody
 * listens to costs no event object and no dispatch (several per task).
 */
export class SignalTarget extends EventTarget {
  readonly #wrapped = new WeakMap<Listener, EventListener>();
  /**
   * Listeners by type, with their capture bits. A `once` listener that ran,
   * or one removed by its `signal`, stays counted: that only costs a
   * dispatch, never a missed listener.
   */
  readonly #listening = new Map<string, Map<Listener, number>>();

  /** Whether `type` may have a listener (false: dispatching it would reach nobody). */
  hasListeners(type: string): boolean {
    return (this.#listening.get(type)?.size ?? 0) > 0;
  }

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
    let listeners = this.#listening.get(type);
    if (!listeners) this.#listening.set(type, listeners = new Map());
    listeners.set(key, (listeners.get(key) ?? 0) | captureBit(options));
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
    const listeners = this.#listening.get(type);
    const bits = (listeners?.get(key) ?? 0) & ~captureBit(options);
    if (bits) listeners!.set(key, bits);
    else listeners?.delete(key);
    super.removeEventListener(type, this.#wrapped.get(key) ?? key, options);
  }
}

function report(type: string, error: unknown): void {
  const text = error instanceof Error ? error.stack ?? error.message : String(error);
  log.error(`Signal handler for ${type} raised: ${text}`);
}
