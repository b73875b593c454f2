/**
 * The README's code blocks, read from README.md itself, and a scratch
 * directory where they run as a user's files: a `deno.json` maps
 * `jsr:@celeriac/celeriac` (and `/cli`) to this checkout, nothing else.
 *
 * @module
 */

import { ROOT } from "./example_runner.ts";

/** One fenced code block of the README. */
export interface ReadmeBlock {
  /** The fence's language (`ts`, `sh`, …). */
  lang: string;
  /** The block's text, without the fences. */
  text: string;
  /** Line number of the opening fence (1-based). */
  line: number;
}

/** Every fenced code block of README.md, in order. */
export function readmeBlocks(): ReadmeBlock[] {
  const lines = Deno.readTextFileSync(`${ROOT}README.md`).split("\n");
  const blocks: ReadmeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(\w*)$/.exec(lines[index]);
    if (!open) continue;
    const end = lines.indexOf("```", index + 1);
    blocks.push({
      lang: open[1],
      text: lines.slice(index + 1, end).join("\n") + "\n",
      line: index + 1,
    });
    index = end;
  }
  return blocks;
}

/** The one block that contains `marker`; throws (naming the marker) when there is not exactly one. */
export function readmeBlock(marker: string): ReadmeBlock {
  const found = readmeBlocks().filter((block) => block.text.includes(marker));
  if (found.length !== 1) {
    throw new Error(
      `README.md has ${found.length} code blocks containing ${JSON.stringify(marker)}`,
    );
  }
  return found[0];
}

/** The README line of `block` that contains `marker`, with trailing `# comment` removed. */
export function commandLine(block: ReadmeBlock, marker: string): string {
  const line = block.text.split("\n").find((text) => text.includes(marker));
  if (!line) throw new Error(`README.md line ${block.line}: no command containing ${marker}`);
  return line.replace(/\s+#.*$/, "").trim();
}

/** Splits a shell command line on spaces, honouring single quotes (enough for the README). */
export function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]);
}

/** A scratch project directory with the README's import of celeriac mapped to this checkout. */
export async function scratchProject(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-readme-" });
  const imports = {
    "jsr:@celeriac/celeriac": `${ROOT}mod.ts`,
    "jsr:@celeriac/celeriac/cli": `${ROOT}cli.ts`,
  };
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ imports }, null, 2));
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}
