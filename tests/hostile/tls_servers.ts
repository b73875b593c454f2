/**
 * Real TLS listeners for the TLS tests, made by the test itself: a
 * self-signed CA and a server certificate for `localhost`/`127.0.0.1` made
 * with `openssl` (plus an unrelated CA, to be refused), a private
 * `redis-server` with only a `--tls-port`, and a TLS-terminating proxy
 * (`Deno.listenTls`) in front of the shared RabbitMQ. The shared services
 * are never reconfigured.
 *
 * @module
 */

/** PEM files made for one test. */
export interface Certificates {
  /** The directory holding them. */
  dir: string;
  /** The CA that signed the server certificate. */
  caFile: string;
  /** Another CA, which did not. */
  wrongCaFile: string;
  /** Server certificate (SAN localhost, 127.0.0.1). */
  certFile: string;
  /** Server key. */
  keyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Makes a CA, a server certificate it signs, and an unrelated CA, in a new temporary directory. */
export async function makeCertificates(): Promise<Certificates> {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-tls-" });
  const ca = (name: string) => [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-subj",
    `/CN=celeriac test ${name}`,
  ];
  await openssl(ca("ca"), dir);
  await openssl(ca("wrong-ca"), dir);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ], dir);
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    wrongCaFile: `${dir}/wrong-ca.pem`,
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server.key`,
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A running TLS endpoint. */
export interface TlsServer extends AsyncDisposable {
  /** Its port on 127.0.0.1 (the certificate also names `localhost`). */
  port: number;
}

/** True when `redis-server` was built with TLS. */
export async function redisHasTls(): Promise<boolean> {
  try {
    const { stdout } = await new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "piped",
    })
      .output();
    const version = /v=(\d+)/.exec(new TextDecoder().decode(stdout));
    return version !== null && Number(version[1]) >= 6;
  } catch {
    return false;
  }
}

/** Starts a private `redis-server` listening with TLS only; resolves once it answers over TLS. */
export async function startRedisTls(certs: Certificates): Promise<TlsServer> {
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      certs.certFile,
      "--tls-key-file",
      certs.keyFile,
      "--tls-ca-cert-file",
      certs.caFile,
      "--tls-auth-clients",
      "no",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      certs.dir,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const caCerts = [await Deno.readTextFile(certs.caFile)];
  const deadline = Date.now() + 10_000;
  while (true) {
    try {
      const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts });
      await conn.handshake();
      conn.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`redis-server with --tls-port ${port} did not answer: ${error}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    port,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}

/**
 * A TLS-terminating proxy on a free port in front of `target` (the shared
 * RabbitMQ): every accepted TLS connection is piped to a new TCP connection.
 * Without `certs`, a plain TCP proxy (closing it cuts every connection, as a
 * network failure would).
 */
export async function startTlsProxy(
  certs: Certificates | undefined,
  target: { hostname: string; port: number },
): Promise<TlsServer> {
  const listener: Deno.Listener = certs
    ? Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(certs.certFile),
      key: await Deno.readTextFile(certs.keyFile),
    })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let closed = false;
  const pipe = async (client: Deno.Conn) => {
    open.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      if ("handshake" in client) await (client as Deno.TlsConn).handshake();
      upstream = await Deno.connect(target);
      open.add(upstream);
      await Promise.allSettled([
        client.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]);
    } catch {
      // a refused handshake (wrong CA on the client) or a closed peer
    } finally {
      for (const conn of [client, upstream]) {
        if (!conn) continue;
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed by pipeTo
        }
      }
    }
  };
  const accepting = (async () => {
    for await (const client of listener) void pipe(client);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      if (closed) return await accepting;
      closed = true;
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await accepting;
    },
  };
}
