import assert from "node:assert/strict";
import { DEFAULT_SETTINGS } from "../../app/settings.ts";
import { ConfigurationError } from "../../errors.ts";
import { parseAmqpUrl, tlsOptionsFrom } from "./url.ts";

Deno.test("parseAmqpUrl reads vhosts as kombu does", async () => {
  const cases: [string, string][] = [
    ["amqp://guest:guest@localhost:5672//", "/"],
    ["amqp://guest:guest@localhost:5672/", "/"],
    ["amqp://localhost", "/"],
    ["amqp://u:p@rabbit:5672/lafoglia", "lafoglia"],
    ["pyamqp://u:p@rabbit/%2F", "/"],
    ["amqp://h/a%2Fb", "a/b"],
  ];
  for (const [url, vhost] of cases) {
    assert.equal((await parseAmqpUrl(url, DEFAULT_SETTINGS)).vhost, vhost, url);
  }
});

Deno.test("parseAmqpUrl fills in Celery's defaults and decodes credentials", async () => {
  const bare = await parseAmqpUrl("amqp://", DEFAULT_SETTINGS);
  assert.deepEqual(
    [bare.hostname, bare.port, bare.username, bare.password, bare.vhost, bare.tls],
    ["localhost", 5672, "guest", "guest", "/", undefined],
  );
  assert.equal(bare.heartbeat, 120);
  assert.equal(bare.connectTimeoutMs, 4000);
  const full = await parseAmqpUrl("amqp://us%40er:p%2Fss@[::1]:5673/v?heartbeat=10", {
    ...DEFAULT_SETTINGS,
  });
  assert.deepEqual(
    [full.hostname, full.port, full.username, full.password, full.heartbeat],
    ["::1", 5673, "us@er", "p/ss", 10],
  );
  assert.equal(full.maskedUrl, "amqp://us%40er:**@[::1]:5673/v?heartbeat=10");
});

Deno.test("amqps:// and broker_use_ssl switch TLS on with port 5671", async () => {
  const tls = await parseAmqpUrl("amqps://h//", DEFAULT_SETTINGS);
  assert.equal(tls.port, 5671);
  assert.deepEqual(tls.tls, {});
  const viaSetting = await parseAmqpUrl("amqp://h//", {
    ...DEFAULT_SETTINGS,
    broker_use_ssl: { cert_reqs: "CERT_NONE", server_hostname: "rabbit.example" },
  });
  assert.equal(viaSetting.port, 5671);
  assert.deepEqual(viaSetting.tls, { rejectUnauthorized: false, servername: "rabbit.example" });
});

Deno.test("broker_use_ssl: kombu's file options are read, unknown options are named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, "CA PEM");
    const tls = await tlsOptionsFrom({ ca_certs: `${dir}/ca.pem`, cert_reqs: 2 });
    assert.deepEqual(tls, { ca: "CA PEM", rejectUnauthorized: true });
    await assert.rejects(tlsOptionsFrom({ keyfile: `${dir}/missing.pem` }), /keyfile/);
    await assert.rejects(tlsOptionsFrom({ ssl_version: 2 }), ConfigurationError);
    await assert.rejects(tlsOptionsFrom({ cert_reqs: "sometimes" }), /CERT_NONE/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseAmqpUrl refuses other schemes and non-URLs, masking the password", async () => {
  await assert.rejects(
    parseAmqpUrl("redis://u:secret@h", DEFAULT_SETTINGS),
    (error: Error) => error instanceof ConfigurationError && !error.message.includes("secret"),
  );
  await assert.rejects(parseAmqpUrl("not a url", DEFAULT_SETTINGS), ConfigurationError);
});
