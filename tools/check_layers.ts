/**
 * Fails when a module under `src/` imports another transport's internals
 * (anything in `src/transports/<name>/` but its entry files), or statically
 * imports a layer above its own:
 * the arrows point down, from the programs (`cli`, `dashboard`) through the
 * worker to the library a client loads (`app`, `task`, `canvas`, transports…).
 * Type-only imports are erased at run time and allowed; a literal dynamic
 * `import()` is how a lower layer loads a higher one on demand (`app.worker()`).
 *
 * Run by `deno task check`: `deno run --allow-read tools/check_layers.ts`.
 *
 * @module
 */

/** Layers from the top; a folder may import its own layer and those below. */
const LAYERS: string[][] = [
  ["cli", "dashboard"],
  ["worker"],
  [
    "app",
    "task",
    "canvas",
    "events",
    "control",
    "beat",
    "broker",
    "backend",
    "transports",
    "protocol",
  ],
];

/**
 * The files of a transport folder (`src/transports/<name>/`) that other code may
 * import: its adapters behind the seams, and the embedded file's location.
 * Everything else in the folder is its internals.
 */
const TRANSPORT_ENTRIES = new Set([
  "broker.ts",
  "backend.ts",
  "lease.ts",
  "amqp_alias.ts",
  "location.ts",
]);

/** The transport folder `path` (relative to `src/`) is in, or undefined. */
function transportOf(path: string): string | undefined {
  const parts = path.split("/");
  return parts[0] === "transports" && parts.length > 2 ? parts[1] : undefined;
}

/** A folder's layer; files at the top of `src/` (`log.ts`, `errors.ts`) are library. */
function layerOf(folder: string): number {
  const index = LAYERS.findIndex((layer) => layer.includes(folder));
  return index === -1 ? LAYERS.length - 1 : index;
}

/** Static import/export specifiers of `source` that load code at run time. */
export function runtimeImports(source: string): string[] {
  const found: string[] = [];
  const statement = /^\s*(import|export)\s+([^;]*?)\s*from\s*"([^"]+)"|^\s*import\s+"([^"]+)"/gms;
  for (const match of source.matchAll(statement)) {
    if (match[4]) {
      found.push(match[4]);
      continue;
    }
    const clause = match[2].trim();
    if (clause.startsWith("type ")) continue;
    const braces = /^\{([^}]*)\}$/s.exec(clause);
    if (braces) {
      const names = braces[1].split(",").map((name) => name.trim()).filter(Boolean);
      if (names.length > 0 && names.every((name) => name.startsWith("type "))) continue;
    }
    found.push(match[3]);
  }
  return found;
}

/** Every import that climbs a layer, as "from → to" lines. */
export async function layerViolations(root: URL): Promise<string[]> {
  const violations: string[] = [];
  const src = new URL("src/", root);
  async function walk(dir: URL, relative: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${relative}${entry.name}`;
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir), `${path}/`);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
        const from = path.split("/")[0];
        const source = await Deno.readTextFile(new URL(entry.name, dir));
        for (const specifier of runtimeImports(source)) {
          if (!specifier.startsWith(".")) continue;
          const target = new URL(specifier, new URL(path, src)).pathname;
          if (!target.startsWith(src.pathname)) continue;
          const targetPath = target.slice(src.pathname.length);
          const to = targetPath.split("/")[0];
          if (layerOf(to) < layerOf(from)) violations.push(`src/${path} → ${specifier}`);
          const transport = transportOf(targetPath);
          const inside = transport !== undefined && transportOf(path) === transport;
          if (transport && !inside && !TRANSPORT_ENTRIES.has(targetPath.split("/").at(-1)!)) {
            violations.push(`src/${path} → ${specifier} (internals of the ${transport} transport)`);
          }
        }
      }
    }
  }
  await walk(src, "");
  return violations;
}

if (import.meta.main) {
  const violations = await layerViolations(new URL("../", import.meta.url));
  if (violations.length > 0) {
    console.error(
      `These imports climb from a lower layer to a higher one (${
        LAYERS.map((layer) => layer.join("/")).join(" > ")
      }); load the higher layer lazily with a literal import(), or move the code down:\n` +
        violations.map((line) => `  ${line}`).join("\n") +
        `\nA transport is entered only by ${[...TRANSPORT_ENTRIES].join(", ")}.`,
    );
    Deno.exit(1);
  }
  console.log("Layers: no import climbs.");
}
