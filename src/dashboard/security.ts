/**
 * Who may use the dashboard and how: HTTP basic auth (several users) or a
 * bearer token (also accepted once as `?token=`, then kept in an HttpOnly
 * cookie), a CSRF check on every POST, and the headers every response
 * carries (a Content-Security-Policy that allows only this server's own
 * scripts, so nothing a task returns can run in the page).
 *
 * @module
 */

/** How the dashboard is protected. */
export interface AuthOptions {
  /** `user:password` pairs for basic auth. */
  basicAuth?: string[];
  /** A token for `Authorization: Bearer <token>`. */
  authToken?: string;
}

/** The cookie that keeps a token given as `?token=`. */
export const TOKEN_COOKIE = "celeriac_dashboard_token";

/** The header the page sends its CSRF token in. */
export const CSRF_HEADER = "x-csrf-token";

const encoder = new TextEncoder();

/** Compares in time independent of where the texts differ. */
export function sameText(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function cookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

/**
 * Null when `request` may go on, else the response refusing it (401 with a
 * basic-auth challenge, or 401 for a missing token).
 */
export function checkAuth(request: Request, options: AuthOptions): Response | null {
  const header = request.headers.get("authorization") ?? "";
  if (options.basicAuth?.length) {
    const given = header.startsWith("Basic ") ? decodeBase64(header.slice(6)) : "";
    if (options.basicAuth.some((pair) => sameText(pair, given))) return null;
    return new Response("authentication required\n", {
      status: 401,
      headers: { "www-authenticate": 'Basic realm="celeriac dashboard"', ...SECURITY_HEADERS },
    });
  }
  if (options.authToken) {
    const url = new URL(request.url);
    const given = header.startsWith("Bearer ")
      ? header.slice(7)
      : url.searchParams.get("token") ?? cookie(request, TOKEN_COOKIE) ?? "";
    if (sameText(options.authToken, given)) return null;
    return new Response("a valid token is required (Authorization: Bearer <token>)\n", {
      status: 401,
      headers: SECURITY_HEADERS,
    });
  }
  return null;
}

function decodeBase64(text: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0)));
  } catch {
    return "";
  }
}

/**
 * Null when a POST may go on. A request from a browser (it carries
 * `Origin`, `Sec-Fetch-Site` or a cookie) must come from this origin and
 * carry the page's CSRF token; a script (curl, requests, as for Flower's
 * API) carries none of these and is let through on its credentials alone.
 */
export function checkCsrf(request: Request, csrfToken: string): Response | null {
  const url = new URL(request.url);
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  const fromBrowser = origin !== null || site !== null || request.headers.has("cookie");
  if (!fromBrowser) return null;
  const token = request.headers.get(CSRF_HEADER) ?? "";
  const sameOrigin = (origin === null || origin === url.origin) &&
    (site === null || site === "same-origin");
  if (sameOrigin && sameText(token, csrfToken)) return null;
  return Response.json({ error: "CSRF check failed: a POST must come from the dashboard page" }, {
    status: 403,
    headers: SECURITY_HEADERS,
  });
}

/** Headers on every response. */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};
