/**
 * Runs Python Celery 5.2.6's own code (tests/protocol_python/harness.py) on a
 * batch of cases: one interpreter per batch, JSON in on stdin, JSON out.
 *
 * @module
 */

import { parseJson, stringifyJson } from "../../src/protocol/json_content.ts";
import { PYTHON } from "../services.ts";

const SCRIPT = new URL("./harness.py", import.meta.url).pathname;

/** One answer: `ok` holds what Python computed, `error` is `[type, message, traceback]`. */
export type PythonAnswer<T = unknown> = { ok: T; error?: undefined } | {
  ok?: undefined;
  error: [string, string, string];
};

/** Sends every case to one Python process and returns the answers in order. */
export async function runPython<T = unknown>(
  cases: readonly Record<string, unknown>[],
): Promise<PythonAnswer<T>[]> {
  const child = new Deno.Command(PYTHON, {
    args: [SCRIPT],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stringifyJson(cases)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const errText = new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`${PYTHON} harness.py exited with ${code}:\n${errText}`);
  // parseJson, so Python ints beyond 2^53 arrive as bigint, exactly.
  const answers = parseJson(new TextDecoder().decode(stdout)) as PythonAnswer<T>[];
  if (answers.length !== cases.length) {
    throw new Error(`harness.py answered ${answers.length} of ${cases.length} cases`);
  }
  return answers;
}

/** The `ok` value of an answer; throws with Python's traceback when it failed. */
export function okValue<T>(answer: PythonAnswer<T>, label: string): T {
  if (answer.error) {
    throw new Error(
      `${label}: Python raised ${answer.error[0]}: ${answer.error[1]}\n${answer.error[2]}`,
    );
  }
  return answer.ok as T;
}

/** Base64 of bytes, for passing bodies through JSON. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Bytes of a base64 text. */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
