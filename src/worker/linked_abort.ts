/**
 * A signal that aborts when any of its sources does, for as long as it is
 * linked: disposing it removes its listeners from the sources, so nothing
 * long-lived keeps it.
 *
 * Why not `AbortSignal.any`: by the DOM spec a signal it makes cannot be
 * collected while a source lives and the signal has an abort listener. A
 * run's "abandoned" signal combines the AMQP channel's `lost` signal (alive
 * as long as the channel) with the run's own revoke signal, and the pool
 * listens on it; with `AbortSignal.any` every task run on RabbitMQ stayed in
 * memory until the channel closed (~1.4 KB each: 40 MiB of the main thread's
 * heap after a 30,000-task drain, issue 18).
 *
 * @module
 */

/** A signal following several sources until disposed. */
export class LinkedAbort implements Disposable {
  /** Aborts (with the source's reason) when a source does; undefined without sources. */
  readonly signal: AbortSignal | undefined;
  #unlink: () => void = () => {};

  /** Follows the given sources (undefined ones are skipped; a single source is used as is). */
  constructor(sources: readonly (AbortSignal | undefined)[]) {
    const live = sources.filter((source): source is AbortSignal => source !== undefined);
    if (live.length <= 1) {
      this.signal = live[0];
      return;
    }
    const controller = new AbortController();
    this.signal = controller.signal;
    const aborted = live.find((source) => source.aborted);
    if (aborted) {
      controller.abort(aborted.reason);
      return;
    }
    const follow = (event: Event) => {
      this.#unlink();
      controller.abort((event.target as AbortSignal).reason);
    };
    for (const source of live) source.addEventListener("abort", follow);
    this.#unlink = () => {
      for (const source of live) source.removeEventListener("abort", follow);
    };
  }

  /** Stops following the sources. */
  [Symbol.dispose](): void {
    this.#unlink();
    this.#unlink = () => {};
  }
}
