/**
 * kombu's Redis key layout, in one place (spec §4.1, §4.4, §4.5, §4.7, §4.8).
 * Every key and channel name the broker adapter touches comes from here, with
 * `global_keyprefix` already applied.
 *
 * | name | type | holds |
 * |---|---|---|
 * | `<queue>` and `<queue>\x06\x16<step>` | list | envelopes, one list per priority step |
 * | `_kombu.binding.<exchange>` | set | `<routing key>\x06\x16<pattern>\x06\x16<queue>` |
 * | `unacked` | hash | delivery tag → `[envelope, exchange, routing key]` |
 * | `unacked_index` | sorted set | delivery tag scored by delivery time (unix seconds) |
 * | `unacked_mutex` | string | lock held while restoring |
 * | `/<db>.<exchange>[/<routing key>]` | pub/sub channel | fanout messages |
 * | `<queue>.dead` | list | celeriac only: malformed list elements, kept for inspection |
 *
 * @module
 */

import type { RedisTransportOptions } from "./options.ts";

/** One list of a queue: its key and the priority step it holds. */
export interface QueueList {
  /** Full key, prefix included. */
  key: string;
  /** The queue it belongs to. */
  queue: string;
  /** The priority step (0 for the bare list). */
  step: number;
}

/** One member of a `_kombu.binding.<exchange>` set. */
export interface Binding {
  /** Routing (binding) key. */
  routingKey: string;
  /** Regex pattern for topic exchanges, else empty. */
  pattern: string;
  /** Queue name. */
  queue: string;
}

/**
 * The key names of one Redis database, as kombu 5.2.4 names them.
 *
 * @example
 * ```ts
 * import { KombuKeys } from "./keys.ts";
 * import { DEFAULT_TRANSPORT_OPTIONS } from "./options.ts";
 * const keys = new KombuKeys(DEFAULT_TRANSPORT_OPTIONS, 0);
 * console.assert(keys.listFor("celery", 5) === "celery\x06\x163");
 * console.assert(keys.binding("celery") === "_kombu.binding.celery");
 * ```
 */
export class KombuKeys {
  /** The `global_keyprefix`. */
  readonly prefix: string;
  /** The separator (`\x06\x16`). */
  readonly sep: string;
  /** Priority steps, ascending. */
  readonly steps: readonly number[];
  /** The unacked hash. */
  readonly unacked: string;
  /** The unacked sorted set. */
  readonly unackedIndex: string;
  /** The restore lock. */
  readonly unackedMutex: string;
  readonly #fanoutPrefix: string;
  readonly #fanoutPatterns: boolean;

  /** Builds the layout for transport options and the database number. */
  constructor(options: Readonly<RedisTransportOptions>, db: number) {
    this.prefix = options.globalKeyprefix;
    this.sep = options.sep;
    this.steps = [...options.prioritySteps];
    this.unacked = this.prefix + options.unackedKey;
    this.unackedIndex = this.prefix + options.unackedIndexKey;
    this.unackedMutex = this.prefix + options.unackedMutexKey;
    const fanout = options.fanoutPrefix;
    this.#fanoutPrefix = fanout === true ? `/${db}.` : fanout === false ? "" : fanout;
    this.#fanoutPatterns = options.fanoutPatterns;
  }

  /** kombu's `_get_message_priority`: an integer clamped to 0–9; anything else is 0. */
  messagePriority(priority: unknown): number {
    const value = typeof priority === "string" ? Number(priority) : priority;
    if (typeof value !== "number" || !Number.isFinite(value)) return 0;
    return Math.max(0, Math.min(Math.trunc(value), 9));
  }

  /** kombu's `priority(n)`: the largest step ≤ n (Python's `steps[bisect(steps, n) - 1]`). */
  step(priority: number): number {
    let index = 0;
    while (index < this.steps.length && this.steps[index] <= priority) index++;
    return this.steps.at(index - 1) ?? 0;
  }

  /** The list a message of `priority` goes to. */
  listFor(queue: string, priority: number): string {
    const step = this.step(priority);
    return step ? `${this.prefix}${queue}${this.sep}${step}` : this.prefix + queue;
  }

  /** Every list of a queue, most urgent (lowest step) first. */
  listsOf(queue: string): QueueList[] {
    return this.steps.map((step) => ({ key: this.listFor(queue, step), queue, step }));
  }

  /** BRPOP's key order: for each step, for each queue (`[q1, q2, q1␆␖3, q2␆␖3, …]`). */
  consumeOrder(queues: readonly string[]): QueueList[] {
    return this.steps.flatMap((step) =>
      queues.map((queue) => ({ key: this.listFor(queue, step), queue, step }))
    );
  }

  /** The binding set of an exchange. */
  binding(exchange: string): string {
    return `${this.prefix}_kombu.binding.${exchange}`;
  }

  /** A member of a binding set. */
  bindingMember(binding: Binding): string {
    return [binding.routingKey, binding.pattern, binding.queue].join(this.sep);
  }

  /** Reads a member of a binding set; undefined when it is not three fields. */
  parseBindingMember(member: string): Binding | undefined {
    const parts = member.split(this.sep);
    if (parts.length !== 3) return undefined;
    return { routingKey: parts[0], pattern: parts[1], queue: parts[2] };
  }

  /** The channel a fanout message is published on (kombu's `_get_publish_topic`). */
  fanoutChannel(exchange: string, routingKey: string): string {
    if (routingKey && this.#fanoutPatterns) {
      return `${this.prefix}${this.#fanoutPrefix}${exchange}/${routingKey}`;
    }
    return `${this.prefix}${this.#fanoutPrefix}${exchange}`;
  }

  /** The pattern a fanout queue subscribes to (`#` in the binding key becomes `*`). */
  fanoutSubscription(exchange: string, bindingKey: string): string {
    return this.fanoutChannel(exchange, bindingKey.replaceAll("#", "*"));
  }

  /** The exchange a fanout channel belongs to (kombu's `_receive_one`). */
  exchangeOfChannel(channel: string): string {
    let rest = channel.slice(this.prefix.length);
    if (rest.startsWith("/")) rest = rest.slice(rest.indexOf(".") + 1);
    return rest.split("/", 1)[0];
  }

  /** celeriac's list for malformed elements popped from `queue`. */
  deadList(queue: string): string {
    return `${this.prefix}${queue}.dead`;
  }

  /**
   * celeriac's set of the tags one consumer thread holds (`UnackedLedger.own`):
   * `<unacked>.owner.<id>`, deleted when the thread's messages are given back.
   */
  ownerSet(id: string): string {
    return `${this.unacked}.owner.${id}`;
  }

  /** celeriac's list for unreadable values found in the unacked hash. */
  get unackedDeadList(): string {
    return `${this.unacked}.dead`;
  }
}

/** kombu's topic pattern for a binding key (`*` one word, `#` any words), escaped as kombu does. */
export function topicPattern(bindingKey: string): string {
  const escaped = [...bindingKey].map((c) => {
    if (/[\p{L}\p{N}]/u.test(c) || ".#*".includes(c)) return c;
    return c === "\0" ? "\\000" : `\\${c}`;
  }).join("");
  const words = escaped.split(".").map((word) => {
    if (word === "*") return String.raw`.*?[^\.]`;
    if (word === "#") return ".*?";
    return word;
  });
  return `^${words.join(String.raw`\.`)}$`;
}

/** The queues of a binding table a message with `routingKey` goes to, by exchange type. */
export function routeThroughBindings(
  bindings: readonly Binding[],
  exchangeType: "direct" | "topic" | "fanout",
  routingKey: string,
): string[] {
  const out = new Set<string>();
  for (const binding of bindings) {
    if (exchangeType === "fanout") out.add(binding.queue);
    else if (exchangeType === "direct" && binding.routingKey === routingKey) out.add(binding.queue);
    else if (exchangeType === "topic" && matchesPattern(binding.pattern, routingKey)) {
      out.add(binding.queue);
    }
  }
  return [...out];
}

function matchesPattern(pattern: string, routingKey: string): boolean {
  try {
    // No "u" flag: kombu escapes every non-alphanumeric character (`\\_`, `\\-`).
    return new RegExp(pattern).test(routingKey);
  } catch {
    return false;
  }
}
