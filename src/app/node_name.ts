/**
 * Node names: `celery@host` for workers (`-n name@%h`), `gen<pid>@host` for clients.
 *
 * @module
 */

let cachedHostName: string | undefined;

/**
 * This machine's host name, or `localhost` without permission to read it.
 * Read once (Celery memoizes `gethostname` too): every send puts it in the
 * `origin` header, and reading it is a system call.
 */
export function hostName(): string {
  if (cachedHostName === undefined) {
    try {
      cachedHostName = Deno.hostname();
    } catch {
      cachedHostName = "localhost";
    }
  }
  return cachedHostName;
}

/** The default worker node name, `celery@<host>`. */
export function nodeName(): string {
  return `celery@${hostName()}`;
}

/** A client's `origin` header, `gen<pid>@<host>`, as Python Celery sends it. */
export function nodeOrigin(): string {
  return `gen${Deno.pid}@${hostName()}`;
}

/** Expands `%h` (host), `%n` (short host) and `%d` (domain) in a `-n` node name. */
export function expandNodeName(template: string): string {
  const host = hostName();
  const [short, ...domain] = host.split(".");
  const name = template.replace(/%h/g, host).replace(/%n/g, short).replace(/%d/g, domain.join("."));
  return name.includes("@") ? name : `${name}@${host}`;
}
