/**
 * Hides secrets in a worker's configuration before the page shows it, as
 * Celery's `filter_hidden_settings`: values of keys that look secret are
 * masked, and passwords in URLs are replaced by `**`.
 *
 * @module
 */

const SECRET_KEY = /API|TOKEN|KEY|SECRET|PASS|SIGNATURE|DATABASE/i;

/** Masks `user:password@` in a URL-looking text. */
export function maskUrlPassword(text: string): string {
  return text.replace(/(\w[\w+.-]*:\/\/[^:/@\s]*:)[^@/\s]*@/g, "$1**@");
}

/** A copy of `config` with secret values masked (recursively). */
export function censorConfig(config: unknown, key = ""): unknown {
  if (key && SECRET_KEY.test(key) && config !== null && typeof config !== "object") {
    return "********";
  }
  if (typeof config === "string") return maskUrlPassword(config);
  if (Array.isArray(config)) return config.map((item) => censorConfig(item));
  if (config && typeof config === "object") {
    return Object.fromEntries(
      Object.entries(config).map(([name, value]) => [name, censorConfig(value, name)]),
    );
  }
  return config;
}
