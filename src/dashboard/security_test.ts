import assert from "node:assert/strict";
import { censorConfig } from "./censor.ts";
import { checkAuth, checkCsrf } from "./security.ts";

const url = "http://127.0.0.1:5555/api/task/revoke/x";

Deno.test("auth: basic auth with several users, or a bearer token", () => {
  const basic = { basicAuth: ["a:1", "b:2"] };
  const as = (pair: string) =>
    new Request(url, { headers: { authorization: `Basic ${btoa(pair)}` } });
  assert.equal(checkAuth(as("a:1"), basic), null);
  assert.equal(checkAuth(as("b:2"), basic), null);
  assert.equal(checkAuth(as("a:2"), basic)?.status, 401);
  assert.equal(checkAuth(new Request(url), basic)?.status, 401);
  const token = { authToken: "t0k" };
  assert.equal(
    checkAuth(new Request(url, { headers: { authorization: "Bearer t0k" } }), token),
    null,
  );
  assert.equal(checkAuth(new Request(`${url}?token=t0k`), token), null);
  assert.equal(
    checkAuth(new Request(url, { headers: { cookie: "celeriac_dashboard_token=t0k" } }), token),
    null,
  );
  assert.equal(
    checkAuth(new Request(url, { headers: { authorization: "Bearer nope" } }), token)?.status,
    401,
  );
  assert.equal(checkAuth(new Request(url), {}), null);
});

Deno.test("CSRF: a browser POST needs this origin and the token; a script passes", () => {
  const post = (headers: Record<string, string>) => new Request(url, { method: "POST", headers });
  assert.equal(checkCsrf(post({}), "T"), null);
  assert.equal(
    checkCsrf(post({ origin: "http://127.0.0.1:5555", "x-csrf-token": "T" }), "T"),
    null,
  );
  assert.equal(checkCsrf(post({ origin: "http://127.0.0.1:5555" }), "T")?.status, 403);
  assert.equal(
    checkCsrf(post({ origin: "http://evil.example", "x-csrf-token": "T" }), "T")?.status,
    403,
  );
  assert.equal(
    checkCsrf(post({ "sec-fetch-site": "cross-site", "x-csrf-token": "T" }), "T")?.status,
    403,
  );
  assert.equal(checkCsrf(post({ cookie: "a=b", "x-csrf-token": "X" }), "T")?.status, 403);
});

Deno.test("censor: secret keys and URL passwords are masked", () => {
  assert.deepEqual(
    censorConfig({
      broker_url: "amqp://guest:secret@host//",
      result_backend_password: "pw",
      nested: { API_KEY: "k", plain: 1 },
    }),
    {
      broker_url: "amqp://guest:**@host//",
      result_backend_password: "********",
      nested: { API_KEY: "********", plain: 1 },
    },
  );
});
