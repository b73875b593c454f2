import assert from "node:assert/strict";
import { expandCronField } from "./cron_parser.ts";
import { ConfigurationError } from "../errors.ts";

Deno.test("Celery's captured expansions", () => {
  assert.deepEqual(expandCronField("minute", "*/15"), [0, 15, 30, 45]);
  assert.deepEqual(expandCronField("dayOfMonth", "*/10"), [1, 11, 21, 31]);
  assert.deepEqual(expandCronField("dayOfWeek", "*/2"), [0, 2, 4, 6]);
  assert.deepEqual(expandCronField("dayOfWeek", "mon-fri"), [1, 2, 3, 4, 5]);
  assert.deepEqual(expandCronField("monthOfYear", "2-12/3"), [2, 5, 8, 11]);
  assert.deepEqual(expandCronField("minute", "30-45/5"), [30, 35, 40, 45]);
  assert.deepEqual(expandCronField("minute", "1,13,30-45/5"), [1, 13, 30, 35, 40, 45]);
  assert.deepEqual(expandCronField("dayOfWeek", "sat-mon"), [0, 1, 6]);
  assert.deepEqual(expandCronField("dayOfWeek", "sunday,Tue"), [0, 2]);
  assert.equal(expandCronField("hour", "*").length, 24);
});

Deno.test("numbers and lists of numbers", () => {
  assert.deepEqual(expandCronField("hour", 8), [8]);
  assert.deepEqual(expandCronField("minute", [30, 0, 30]), [0, 30]);
});

Deno.test("month names in the month field (Celery 5.5)", () => {
  assert.deepEqual(expandCronField("monthOfYear", "jan,Mar-may"), [1, 3, 4, 5]);
  assert.deepEqual(expandCronField("monthOfYear", "nov-feb"), [1, 2, 11, 12]);
});

Deno.test("invalid fields are ConfigurationErrors naming the field and the value", () => {
  const cases: Array<[Parameters<typeof expandCronField>, RegExp]> = [
    [["minute", "60"], /minute "60": Invalid end range: 60 > 59/],
    [["minute", 60], /minute 60: Invalid crontab pattern. {2}Valid range is 0-59. '60' was found./],
    [["dayOfWeek", 7], /dayOfWeek 7: .*Valid range is 0-6/],
    [["dayOfWeek", "funday"], /dayOfWeek "funday": 'funday' is not a number or a day name/],
    [["minute", "mon"], /minute "mon": 'mon' is not a number/],
    [["monthOfYear", "mon"], /'mon' is not a number or a month name/],
    [["minute", "*/0"], /minute "\*\/0": the step '0'/],
    [["minute", "*/"], /empty step/],
    [["minute", "1,,2"], /empty part/],
    [["minute", ""], /empty part/],
    [["minute", "-5"], /negative numbers/],
    [["minute", "1-5-7"], /minute "1-5-7"/],
    [["minute", [1.5]], /1.5 is not a whole number/],
    [["hour", true as unknown as number], /hour true: a boolean was given/],
    [["dayOfMonth", "0"], /Invalid beginning range: 0 < 1/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => expandCronField(...args), (error: unknown) => {
      assert.ok(error instanceof ConfigurationError, String(error));
      assert.match((error as Error).message, message);
      return true;
    });
  }
});
