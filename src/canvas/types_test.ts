// Compile-time checks of the canvas types: `deno test` type-checks this file;
// a line marked @ts-expect-error that compiled would fail the check.
import assert from "node:assert/strict";
import { Celery } from "../app/celery.ts";
import type { AsyncResult } from "../task/async_result.ts";
import type { GroupResult } from "./group_result.ts";
import { chain, chord, group } from "./primitives.ts";

const app = new Celery("types", { broker: "memory://", backend: "memory://", setAsCurrent: false });
const add = app.task(function add(x: number, y: number) {
  return x + y;
});
const show = app.task(function show(value: number) {
  return `value ${value}`;
});
const xsum = app.task(function xsum(numbers: number[]) {
  return numbers.reduce((a, b) => a + b, 0);
});

Deno.test("canvas types: arguments checked, result types follow the canvas", () => {
  add.s(1, 2);
  add.s(1); // partial
  // @ts-expect-error: a string is not a number
  add.s("a");
  // @ts-expect-error: too many arguments
  add.si(1, 2, 3);

  const steps = chain(add.s(1, 1), add.s(2), show.s());
  type StepsResult = Awaited<ReturnType<typeof steps.applyAsync>>;
  const stepsIsString: StepsResult extends AsyncResult<string> ? true : false = true;
  // @ts-expect-error: a chain's result is its last task's (string), not number
  const stepsIsNumber: StepsResult extends AsyncResult<number> ? true : false = true;

  const fanOut = group([add.s(1, 1), add.s(2, 2)]);
  type FanOutResult = Awaited<ReturnType<typeof fanOut.applyAsync>>;
  const fanOutIsGroup: FanOutResult extends GroupResult<number> ? true : false = true;

  const joined = chord([add.s(1, 1)], xsum.s());
  type JoinedResult = Awaited<ReturnType<typeof joined.applyAsync>>;
  const joinedIsNumber: JoinedResult extends AsyncResult<number> ? true : false = true;

  const mapped = add.starmap([[1, 2]]);
  type MappedResult = Awaited<ReturnType<typeof mapped.applyAsync>>;
  const mappedIsList: MappedResult extends AsyncResult<number[]> ? true : false = true;
  // @ts-expect-error: starmap items are the task's argument tuples
  add.starmap([["a", 2]]);

  assert.ok(stepsIsString && stepsIsNumber && fanOutIsGroup && joinedIsNumber && mappedIsList);
});
