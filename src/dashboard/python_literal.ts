/**
 * Reads back the Python literals that task events carry as `args` and
 * `kwargs` (`repr()` text such as `(1, 'a', {'k': None})`), so that a failed
 * task can be sent again with the same arguments. Only literals: numbers,
 * strings, `True`/`False`/`None`, tuples, lists, dicts, sets. Anything else
 * (an object's repr, a truncated `...`) is an error naming where it stopped.
 *
 * @module
 */

/** Parses one Python literal; throws a clear error on anything else. */
export function parsePythonLiteral(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`cannot read ${what} at ${at} of ${JSON.stringify(text.slice(0, 80))}`);
  };
  const space = () => {
    while (at < text.length && /\s/.test(text[at])) at++;
  };
  const sequence = (end: string): unknown[] => {
    const items: unknown[] = [];
    space();
    while (text[at] !== end) {
      items.push(value());
      space();
      if (text[at] === ",") at++;
      else if (text[at] !== end) fail(`'${end}'`);
      space();
    }
    at++;
    return items;
  };
  const string = (): string => {
    const quote = text[at++];
    let out = "";
    while (at < text.length && text[at] !== quote) {
      let char = text[at++];
      if (char === "\\") {
        const next = text[at++];
        const simple: Record<string, string> = {
          n: "\n",
          t: "\t",
          r: "\r",
          "\\": "\\",
          "'": "'",
          '"': '"',
          "0": "\0",
        };
        if (next in simple) char = simple[next];
        else if (next === "x" || next === "u" || next === "U") {
          const size = next === "x" ? 2 : next === "u" ? 4 : 8;
          char = String.fromCodePoint(parseInt(text.slice(at, at + size), 16));
          at += size;
        } else char = `\\${next}`;
      }
      out += char;
    }
    if (text[at] !== quote) fail("the end of a string");
    at++;
    return out;
  };
  const value = (): unknown => {
    space();
    const char = text[at];
    if (char === "(") {
      at++;
      return sequence(")");
    }
    if (char === "[") {
      at++;
      return sequence("]");
    }
    if (char === "{") {
      at++;
      space();
      const dict: Record<string, unknown> = {};
      const items: unknown[] = [];
      let isSet = false;
      while (text[at] !== "}") {
        const key = value();
        space();
        if (text[at] === ":") {
          at++;
          dict[String(key)] = value();
        } else {
          isSet = true;
          items.push(key);
        }
        space();
        if (text[at] === ",") at++;
        else if (text[at] !== "}") fail("'}'");
        space();
      }
      at++;
      return isSet ? items : dict;
    }
    if (char === "'" || char === '"') return string();
    if (/[bu]/.test(char) && (text[at + 1] === "'" || text[at + 1] === '"')) {
      at++;
      return string();
    }
    const word = /^(True|False|None|-?\d+(\.\d+)?(e[+-]?\d+)?|-?inf|nan)/.exec(text.slice(at));
    if (!word) return fail("a Python literal");
    at += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    return Number(word[0].replace("inf", "Infinity").replace("nan", "NaN"));
  };
  const result = value();
  space();
  if (at !== text.length) fail("the end");
  return result;
}
