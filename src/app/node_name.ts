/**
 * Node names: `celery@host` for workers (`-n name@%h`), `gen<pid>@host` for clients.
 *
 * @module
 */

/** This machine's host name, or `localhost` without permission to read it. */
export function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
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
