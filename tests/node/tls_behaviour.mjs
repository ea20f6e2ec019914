// node:tls behaviour that the inline hooks must leave exactly as it is
// (tests/e2e/test_node_https.sh runs this without and with the shim and
// compares the output). A TLS server in this same process (its SSL_read /
// SSL_write are hooked too), and clients:
//   alpn      tls.connect offering h2 and http/1.1 to a server that takes http/1.1
//   echo      64 KiB each way through one connection, in 1000-byte writes
//   clientcert a server requiring client certificates: with one, then without
//   resume    TLS 1.2 session resumption (the second handshake reuses the first's)
//   reneg     a TLS 1.2 client renegotiating (whatever node answers, the same with the shim)
//   tls13     TLS 1.3 with the session ticket arriving after the handshake
// usage: node tls_behaviour.mjs CERTDIR   (ca.pem, server.pem/.key, client.pem/.key)
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";

const dir = process.argv[2];
const read = (f) => fs.readFileSync(path.join(dir, f));
const ca = read("ca.pem");
const serverOpts = { cert: read("server.pem"), key: read("server.key") };
const out = (...a) => console.log(...a);

function server(opts, onConn) {
  return new Promise((resolve) => {
    const s = tls.createServer({ ...serverOpts, ...opts }, onConn);
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

function connect(port, opts = {}) {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca, ...opts });
    c.once("secureConnect", () => resolve(c));
    c.once("error", reject);
  });
}

const echo = (sock) => sock.on("data", (d) => sock.write(d)).on("error", () => {});

async function alpn() {
  const s = await server({ ALPNProtocols: ["http/1.1"] }, (sock) => sock.end(`proto=${sock.alpnProtocol}`));
  const c = await connect(s.address().port, { ALPNProtocols: ["h2", "http/1.1"] });
  let got = "";
  c.on("data", (d) => { got += d; });
  await new Promise((r) => c.on("end", r));
  out("alpn", c.alpnProtocol, got, c.getProtocol());
  s.close();
}

async function echoBulk() {
  const s = await server({}, echo);
  const c = await connect(s.address().port);
  const chunk = Buffer.alloc(1000, 7);
  let got = 0;
  const done = new Promise((r) => c.on("data", (d) => { got += d.length; if (got >= 64000) r(); }));
  for (let i = 0; i < 64; i++) c.write(chunk);
  await done;
  out("echo", got, c.authorized);
  c.end();
  s.close();
}

async function clientCert() {
  const s = await server({ requestCert: true, rejectUnauthorized: true, ca },
    (sock) => sock.end(`peer=${sock.getPeerCertificate().subject?.CN}`));
  const port = s.address().port;
  const c = await connect(port, { cert: read("client.pem"), key: read("client.key") });
  let got = "";
  c.on("data", (d) => { got += d; });
  await new Promise((r) => c.on("end", r));
  out("clientcert with", got);
  // without a certificate the server refuses (TLS 1.3: after the handshake)
  const refused = await new Promise((resolve) => {
    const c2 = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca });
    c2.on("error", (e) => resolve(e.code || e.message));
    c2.on("data", () => {});
    c2.on("end", () => resolve("end"));
  });
  out("clientcert without", refused);
  s.close();
}

async function resume() {
  const s = await server({ maxVersion: "TLSv1.2" }, (sock) => sock.end("x"));
  const port = s.address().port;
  const c1 = await connect(port, { maxVersion: "TLSv1.2" });
  const session = c1.getSession();
  c1.on("data", () => {});
  await new Promise((r) => c1.on("end", r));
  const c2 = await connect(port, { maxVersion: "TLSv1.2", session });
  out("resume", c1.isSessionReused(), c2.isSessionReused(), c2.getProtocol());
  c2.on("data", () => {});
  await new Promise((r) => c2.on("end", r));
  s.close();
}

async function tls13() {
  const s = await server({}, (sock) => sock.end("y"));
  const port = s.address().port;
  const c1 = await connect(port);
  const session = await new Promise((r) => c1.once("session", r));
  c1.on("data", () => {});
  await new Promise((r) => c1.on("end", r));
  const c2 = await connect(port, { session });
  out("tls13", c2.getProtocol(), c2.isSessionReused());
  c2.on("data", () => {});
  await new Promise((r) => c2.on("end", r));
  s.close();
}

async function reneg() {
  const s = await server({ maxVersion: "TLSv1.2" }, echo);
  const c = await connect(s.address().port, { maxVersion: "TLSv1.2" });
  const res = await new Promise((resolve) => {
    c.on("error", (e) => resolve(`error ${e.code || e.message}`));
    const ok = c.renegotiate({}, (err) => resolve(err ? `refused ${err.code || err.message}` : "done"));
    if (ok === false) resolve("not started");
  });
  out("reneg", res);
  c.destroy();
  s.close();
}

for (const t of [alpn, echoBulk, clientCert, resume, tls13, reneg]) await t();
