/**
 * Walking a result tree: `children` read from a stored result (Celery's
 * result tuples), and `collect()` waiting for a result and all it led to.
 *
 * @module
 */

import type { ResultBackend, ResultMeta } from "../backend/types.ts";
import type { GetOptions, Revoker } from "../task/async_result.ts";
import { AsyncResult } from "../task/async_result.ts";
import { GroupResult } from "./group_result.ts";
import { fromTuple, type ResultNode } from "./result_node.ts";

/** What a parent or child result offers: an AsyncResult or a GroupResult. */
export interface ParentResult {
  /** Task or group id. */
  readonly id: string;
  /** Its parent. */
  parent?: ParentResult;
  /** Waits for its value. */
  get(options?: GetOptions): Promise<unknown>;
  /** True once ready. */
  ready(): Promise<boolean>;
}

/** A result handle for a node of ids. */
export function resultOf(
  node: ResultNode,
  backend: () => Promise<ResultBackend>,
  revoke?: Revoker,
): AsyncResult | GroupResult {
  const result = node.results
    ? new GroupResult(
      node.id,
      node.results.map((child) => resultOf(child, backend, revoke)),
      backend,
    )
    : new AsyncResult(node.id, backend, { revoke });
  if (node.parent) result.parent = resultOf(node.parent, backend, revoke);
  return result;
}

/** The children recorded in a stored result. */
export function childrenOf(
  meta: ResultMeta | undefined,
  backend: () => Promise<ResultBackend>,
  revoke?: Revoker,
): ParentResult[] {
  const tuples = Array.isArray(meta?.children) ? meta.children : [];
  return tuples.map(fromTuple).filter((node): node is ResultNode => node !== undefined)
    .map((node) => resultOf(node, backend, revoke));
}

/** Celery's `collect()`: `[result, value]` for the result, then each child, depth first. */
export async function* collectResults(
  root: ParentResult,
  options: GetOptions,
): AsyncGenerator<[ParentResult, unknown]> {
  const stack: ParentResult[] = [root];
  while (stack.length) {
    const result = stack.shift()!;
    yield [result, await result.get(options)];
    if (result instanceof AsyncResult) stack.unshift(...await result.children());
    else if (result instanceof GroupResult) stack.unshift(...result.results);
  }
}

/**
 * The error of the earliest failed ancestor (Celery's
 * `_maybe_reraise_parent_error`), reading only results that are ready.
 */
export async function parentFailure(parent: ParentResult): Promise<unknown> {
  const chain: ParentResult[] = [];
  for (let node: ParentResult | undefined = parent; node; node = node.parent) chain.unshift(node);
  for (const node of chain) {
    const members = node instanceof GroupResult ? node.results : [node];
    for (const member of members) {
      if (!(member instanceof AsyncResult) || !await member.ready()) continue;
      if (await member.failed()) return await member.get({ propagate: false });
    }
  }
  return undefined;
}
