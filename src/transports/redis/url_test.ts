import assert from "node:assert/strict";
import { ConfigurationError } from "../../errors.ts";
import { maskRedisUrl, parseRedisUrl } from "./url.ts";

Deno.test("redis URL: host, port, db, user and URL-encoded password", () => {
  const options = parseRedisUrl("redis://app:p%40ss%3Aw@cache.local:6380/11");
  assert.equal(options.host, "cache.local");
  assert.equal(options.port, 6380);
  assert.equal(options.db, 11);
  assert.equal(options.username, "app");
  assert.equal(options.password, "p@ss:w");
  assert.equal(options.tls, undefined);
});

Deno.test("redis URL: defaults are 127.0.0.1:6379 db 0; password without user", () => {
  const options = parseRedisUrl("redis://:secret@/");
  assert.deepEqual([options.host, options.port, options.db], ["127.0.0.1", 6379, 0]);
  assert.equal(options.username, undefined);
  assert.equal(options.password, "secret");
  assert.equal(parseRedisUrl("redis://h").db, 0);
});

Deno.test("rediss URL: TLS with ssl_cert_reqs from the query or broker_use_ssl", () => {
  assert.equal(parseRedisUrl("rediss://h:6390/0").tls?.rejectUnauthorized, true);
  const none = parseRedisUrl("rediss://h/0?ssl_cert_reqs=CERT_NONE");
  assert.equal(none.tls?.rejectUnauthorized, false);
  assert.equal(parseRedisUrl("rediss://h/0?ssl_cert_reqs=none").tls?.rejectUnauthorized, false);
  const fromSetting = parseRedisUrl("rediss://h/0", { ssl_cert_reqs: "CERT_NONE" });
  assert.equal(fromSetting.tls?.rejectUnauthorized, false);
  // kombu turns TLS on whenever broker_use_ssl is set.
  assert.equal(parseRedisUrl("redis://h/0", true).tls?.rejectUnauthorized, true);
});

Deno.test("redis URL errors name the masked URL and what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["redis://:pw@h/abc", /database must be an integer/],
    ["redis://:pw@h/0?ssl_cert_reqs=none", /use rediss:\/\//],
    ["rediss://:pw@h/0?ssl_cert_reqs=maybe", /ssl_cert_reqs must be/],
    ["redis://:pw@a;redis://b", /only sentinel:\/\//],
  ];
  for (const [url, why] of cases) {
    assert.throws(() => parseRedisUrl(url), (error: Error) => {
      assert.ok(error instanceof ConfigurationError);
      assert.match(error.message, why);
      assert.ok(!error.message.includes(":pw@"), error.message);
      return true;
    });
  }
});

Deno.test("sentinel URL: several sentinels, db and password of the master", () => {
  const url = "sentinel://:pw@s1:26379/3;sentinel://:pw@s2;sentinel://s3:26380";
  const options = parseRedisUrl(url);
  assert.deepEqual(options.sentinels, [
    { host: "s1", port: 26379 },
    { host: "s2", port: 26379 },
    { host: "s3", port: 26380 },
  ]);
  assert.equal(options.db, 3);
  assert.equal(options.password, "pw");
  assert.equal(
    maskRedisUrl(url),
    "sentinel://:**@s1:26379/3;sentinel://:**@s2;sentinel://s3:26380",
  );
});
