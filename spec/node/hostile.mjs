// Hostile clients against `crosstenant serve` (spec/32_hostile_spec.lua):
//
//   node hostile.mjs PORT
//
// Raw sockets on 127.0.0.1:PORT: an oversize body (by Content-Length and
// chunked), a slow client, 300 parallel connections, a client that
// disconnects mid-body, garbage, a huge header; after each, a correct
// request must be answered correctly.  Prints "ok <case>" per case and
// exits 0, or prints the failure and exits 1.
import net from "node:net";

const PORT = Number(process.argv[2]);
const JOBS = "/beta/solutions/migrations/crossTenantMigrationJobs";
const TIMEOUT = Number(process.env.HOSTILE_TIMEOUT_MS || 60000);

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

// sends `chunks` (strings or Buffers; a number pauses that many ms) and
// collects what comes back until the server closes or `until` matches
function exchange(chunks, { until, keepOpen = false, hangUp = false } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(PORT, "127.0.0.1");
    let data = "";
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!keepOpen) sock.destroy();
      if (err) reject(err); else resolve({ data, sock });
    };
    const timer = setTimeout(() => finish(new Error("timeout; got: " +
                                                    data.slice(0, 200))),
                             TIMEOUT);
    sock.on("data", (d) => {
      data += d.toString("latin1");
      if (until && until.test(data)) finish();
    });
    sock.on("error", () => finish());   // a reset after an early answer
    sock.on("close", () => finish());
    sock.on("connect", async () => {
      for (const c of chunks) {
        if (typeof c === "number") await new Promise((r) => setTimeout(r, c));
        else if (!sock.destroyed) sock.write(c);
      }
      if (hangUp) finish();
    });
  });
}

function status(data) {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
  return m ? Number(m[1]) : 0;
}

function get(path, extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + PORT + "\r\n" +
         extra + "Connection: close\r\n\r\n";
}

// a correct request, answered correctly
async function healthy(what) {
  const { data } = await exchange([get("/_crosstenant/health")]);
  check(status(data) === 200, what + ": health 200, got " + data.slice(0, 80));
  check(/\{"status":"ok","now":"[^"]+"\}$/.test(data), what + ": body");
  console.log("ok " + what + " (" + (Date.now() - t0) + " ms)");
}
let t0 = Date.now();

async function main() {
  // a body over 1 MiB announced by Content-Length: 413 before it is sent
  {
    const { data } = await exchange([
      "POST " + JOBS + " HTTP/1.1\r\nHost: x\r\nContent-Type: " +
      "application/json\r\nContent-Length: 2097152\r\n\r\n"], {});
    check(status(data) === 413, "413, got " + data.slice(0, 80));
    check(data.includes('{"error":{"code":"invalidRequest","message":' +
                        '"The request body is larger than 1 MiB."'),
          "Graph's error shape: " + data);
    check(/\r\ncontent-type: application\/json;odata.metadata=minimal;/i
            .test(data), "content-type");
  }
  await healthy("oversize body by Content-Length (413)");

  // with Expect: 100-continue: 413 and no 100
  {
    const { data } = await exchange([
      "POST " + JOBS + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n" +
      "Content-Length: 5000000\r\n\r\n"]);
    check(status(data) === 413, "413 for 100-continue, got " +
                                data.slice(0, 80));
  }
  await healthy("oversize body with Expect: 100-continue (413)");

  // a chunked body past 1 MiB: 413 (or cut off), never stored
  {
    const piece = "x".repeat(64 * 1024);
    const chunks = ["POST " + JOBS + " HTTP/1.1\r\nHost: x\r\n" +
                    "Transfer-Encoding: chunked\r\nConnection: close" +
                    "\r\n\r\n"];
    for (let i = 0; i < 20; i++) {
      chunks.push(piece.length.toString(16) + "\r\n" + piece + "\r\n");
    }
    chunks.push("0\r\n\r\n");
    const { data } = await exchange(chunks);
    check(status(data) === 413 || data === "", "chunked: 413 or closed, got "
                                                + data.slice(0, 80));
  }
  await healthy("oversize chunked body (413)");

  // a slow client holds a connection open; others are answered meanwhile
  {
    const slow = exchange(["GET /_crosstenant/clock HTTP/1.1\r\n", 300,
                           "Host: x\r\n", 300, "Connection: close\r\n", 300,
                           "\r\n"]);
    await healthy("answered while a slow client sends its headers");
    const { data } = await slow;
    check(status(data) === 200, "the slow client is answered: " +
                                data.slice(0, 80));
  }
  console.log("ok slow client answered");

  // 300 parallel connections, all open at once, each answered
  {
    const socks = await Promise.all(Array.from({ length: 300 }, () =>
      new Promise((resolve, reject) => {
        const s = net.connect(PORT, "127.0.0.1");
        s.on("connect", () => resolve(s));
        s.on("error", reject);
      })));
    const answers = await Promise.all(socks.map((s, i) =>
      new Promise((resolve) => {
        let data = "";
        const timer = setTimeout(() => { s.destroy(); resolve(data); },
                                 TIMEOUT);
        s.on("data", (d) => { data += d.toString("latin1"); });
        s.on("close", () => { clearTimeout(timer); resolve(data); });
        s.on("error", () => {});
        s.write(get(JOBS + "?$top=" + (1 + (i % 5))));
      })));
    const ok = answers.filter((d) => status(d) === 200).length;
    check(ok === 300, "300 answered 200, got " + ok);
  }
  await healthy("300 parallel connections");

  // a client that disconnects mid-body
  {
    const body = '{"displayName":"half","sourceTenantId":"12345678-1234-';
    await exchange(["POST " + JOBS + " HTTP/1.1\r\nHost: x\r\n" +
                    "Content-Type: application/json\r\nContent-Length: 400" +
                    "\r\n\r\n" + body, 50], { hangUp: true });
  }
  await healthy("disconnect mid-body");

  // garbage on the socket
  {
    const junk = Buffer.from(Array.from({ length: 512 }, (_, i) =>
      (i * 7919 + 13) % 256));
    await exchange([junk, "\r\n\r\n"]);
    const { data } = await exchange(["HELLO\r\n\r\n"]);
    check(data === "" || status(data) >= 400, "garbage: " +
                                              data.slice(0, 80));
  }
  await healthy("garbage on the socket");

  // a header larger than the connection's memory
  {
    const { data } = await exchange([get("/_crosstenant/health",
                                         "X-Big: " + "a".repeat(100000) +
                                         "\r\n")]);
    check(data === "" || status(data) >= 400, "huge header: " +
                                              data.slice(0, 80));
  }
  await healthy("huge header");
}

main().then(() => process.exit(0), (e) => {
  console.log("FAILED: " + (e && e.stack || e));
  process.exit(1);
});
