/**
 * The layer check (`tools/check_layers.ts`, run by `deno task check`): it
 * reads imports as the runtime loads them, finds a climb in a made-up tree,
 * and finds none in this repository.
 *
 * @module
 */

import assert from "node:assert/strict";
import { layerViolations, runtimeImports } from "../../tools/check_layers.ts";

Deno.test("runtimeImports: type-only imports are erased, the rest load", () => {
  const source = [
    'import { type A, B } from "./mixed.ts";',
    'import type { C } from "./type_only.ts";',
    'import {\n  type D,\n  type E,\n} from "./inline_types.ts";',
    'export { F } from "./re_export.ts";',
    'import "./side_effect.ts";',
    'const lazy = await import("./lazy.ts");',
  ].join("\n");
  assert.deepEqual(runtimeImports(source), ["./mixed.ts", "./re_export.ts", "./side_effect.ts"]);
});

Deno.test("layerViolations: an app module importing the worker is reported; lazy and typed are not", async () => {
  const root = await Deno.makeTempDir({ prefix: "celeriac-layers-" });
  try {
    await Deno.mkdir(`${root}/src/app`, { recursive: true });
    await Deno.mkdir(`${root}/src/worker`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/src/worker/worker.ts`,
      'import { x } from "../app/app.ts";\n',
    );
    await Deno.writeTextFile(
      `${root}/src/app/app.ts`,
      'import type { W } from "../worker/worker.ts";\nexport const x = () => import("../worker/worker.ts");\n',
    );
    assert.deepEqual(await layerViolations(new URL(`file://${root}/`)), []);
    await Deno.writeTextFile(
      `${root}/src/app/bad.ts`,
      'import { y } from "../worker/worker.ts";\n',
    );
    assert.deepEqual(await layerViolations(new URL(`file://${root}/`)), [
      "src/app/bad.ts → ../worker/worker.ts",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("layerViolations: a transport's internals are reached only from inside it", async () => {
  const root = await Deno.makeTempDir({ prefix: "celeriac-layers-" });
  try {
    await Deno.mkdir(`${root}/src/transports/redis`, { recursive: true });
    await Deno.mkdir(`${root}/src/beat`, { recursive: true });
    await Deno.writeTextFile(`${root}/src/transports/redis/facade.ts`, "export const f = 1;\n");
    await Deno.writeTextFile(
      `${root}/src/transports/redis/lease.ts`,
      'import { f } from "./facade.ts";\nexport const lease = f;\n',
    );
    await Deno.writeTextFile(
      `${root}/src/beat/service.ts`,
      'import { lease } from "../transports/redis/lease.ts";\nimport { f } from "../transports/redis/facade.ts";\n',
    );
    assert.deepEqual(await layerViolations(new URL(`file://${root}/`)), [
      "src/beat/service.ts → ../transports/redis/facade.ts (internals of the redis transport)",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("this repository: no module under src/ climbs a layer", async () => {
  assert.deepEqual(await layerViolations(new URL("../../", import.meta.url)), []);
});
