import assert from "node:assert/strict";
import { censorText, censorValue, maskUrl } from "./mask_url.ts";
import { Settings } from "./config.ts";

Deno.test("maskUrl: a raw @ in a password is hidden up to the host", () => {
  assert.equal(maskUrl("amqp://adv3:x@s3cr3t-tail@host/"), "amqp://adv3:**@host/");
  assert.equal(maskUrl("redis://:p@ss@w@rd@h:6379/0"), "redis://:**@h:6379/0");
  assert.equal(maskUrl("redis://user@host/0"), "redis://user@host/0", "no password, no change");
  assert.equal(maskUrl("memory://"), "memory://");
});

Deno.test("maskUrl: every URL of a multi-host value", () => {
  assert.equal(
    maskUrl("sentinel://:p1@h1:26379;sentinel://:p2@h2:26379"),
    "sentinel://:**@h1:26379;sentinel://:**@h2:26379",
  );
  assert.equal(
    censorText("Cannot connect to amqp://u:a@b@h1//, then amqp://v:c@h2// failed"),
    "Cannot connect to amqp://u:**@h1//, then amqp://v:**@h2// failed",
  );
});

Deno.test("censorValue: secret-named keys at any depth, URLs in strings, credential commands", () => {
  const censored = censorValue({
    broker_transport_options: {
      password: "pw-1",
      nested: { sentinel_kwargs: { password: "pw-2" } },
    },
    beat_schedule: { nightly: { task: "t", kwargs: { api_token: "tok-9", n: 1 } } },
    list: ["redis://:pw-3@h/0", { secret: "the-secret-s" }],
    routing_key: "visible",
  }) as Record<string, unknown>;
  const text = JSON.stringify(censored);
  for (const secret of ["pw-1", "pw-2", "pw-3", "tok-9", "the-secret-s"]) {
    assert.ok(!text.includes(secret), text);
  }
  assert.match(text, /"routing_key":"visible"/);
  assert.match(text, /"n":1/);
  const error = Object.assign(new Error("ReplyError: ERR invalid password"), {
    command: { name: "auth", args: ["hunter2-secret"] },
  });
  const shown = Deno.inspect(censorValue(new Error("outer", { cause: error })), { depth: 9 });
  assert.ok(!shown.includes("hunter2-secret"), shown);
  assert.match(shown, /auth/);
});

Deno.test("conf.humanize() and table() hide every secret (second sentinel password, nested options, beat kwargs)", () => {
  const conf = new Settings({
    broker_url: "sentinel://:first-pw@h1:26379;sentinel://:second-pw@h2:26379",
    result_backend: "redis://:raw@at-pw@h3:6379/1",
    broker_transport_options: { master_name: "m", sentinel_kwargs: { password: "sentinel-pw" } },
    result_backend_transport_options: { password: "backend-pw" },
    beat_schedule: {
      sync: { task: "proj.sync", schedule: 60, kwargs: { api_token: "beat-token" } },
    },
  });
  for (const text of [conf.humanize(), JSON.stringify(conf.table())]) {
    for (
      const secret of ["first-pw", "second-pw", "at-pw", "sentinel-pw", "backend-pw", "beat-token"]
    ) {
      assert.ok(!text.includes(secret), `${secret} shown in:\n${text}`);
    }
    assert.match(text, /sentinel:\/\/:\*\*@h1:26379;sentinel:\/\/:\*\*@h2:26379/);
    assert.match(text, /proj\.sync/);
  }
  assert.match(conf.humanize({ censored: false }), /beat-token/);
});
