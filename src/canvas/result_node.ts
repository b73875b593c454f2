/**
 * The ids a canvas will produce, known before anything runs (what freezing
 * returns): a task id, or a group id with its members, each with the result
 * it follows (`parent`). `asTuple` is Celery's result tuple grammar (spec
 * §1.6), used in group metas, `children` and `celery.chord_unlock`.
 *
 * @module
 */

/** One frozen result: a task (`results` absent) or a group (`results` present). */
export interface ResultNode {
  /** Task id, or group id. */
  id: string;
  /** The result this one follows in a chain. */
  parent?: ResultNode;
  /** Members, for a group. */
  results?: ResultNode[];
}

/**
 * Celery's `as_tuple()`: `[[id, parent_tuple | null], children | null]`.
 *
 * @example
 * ```ts
 * import { asTuple } from "./result_node.ts";
 * const tuple = asTuple({ id: "g", results: [{ id: "a" }] });
 * console.assert(JSON.stringify(tuple) === '[["g",null],[[["a",null],null]]]');
 * ```
 */
export function asTuple(node: ResultNode): unknown[] {
  return [
    [node.id, node.parent ? asTuple(node.parent) : null],
    node.results ? node.results.map(asTuple) : null,
  ];
}

/**
 * Reads Celery's result tuple back (`result_from_tuple`); undefined for
 * anything that is not one.
 */
export function fromTuple(value: unknown): ResultNode | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [head, children] = value;
  if (!Array.isArray(head) || typeof head[0] !== "string") return undefined;
  const node: ResultNode = { id: head[0] };
  const parent = head[1] == null ? undefined : fromTuple(head[1]);
  if (parent) node.parent = parent;
  if (Array.isArray(children)) {
    node.results = children.map(fromTuple).filter((n): n is ResultNode => n !== undefined);
  }
  return node;
}

/** The first node up the parent chain without a parent. */
export function rootOf(node: ResultNode): ResultNode {
  let current = node;
  const seen = new Set<string>();
  while (current.parent) {
    if (seen.has(current.id)) throw new Error("Recursive result parents");
    seen.add(current.id);
    current = current.parent;
  }
  return current;
}
