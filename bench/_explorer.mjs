// Miniflare with its local explorer API (`unsafeLocalExplorer: true`): the KV REST API
// Miniflare serves at /cdn-cgi/explorer/api/storage/kv/namespaces/..., the baseline of
// bench/rest_api.py. One KV namespace (id EXPLORER_NS) bound to a Worker that does nothing.
//
//   MINIFLARE_HOME=<folder with node_modules/miniflare> EXPLORER_PORT=P node bench/_explorer.mjs
//
// Prints "explorer ready <url>" once it listens; stops on SIGTERM/SIGINT. Offline (cf:false,
// telemetry off by default); KV in memory unless EXPLORER_PERSIST names a folder.
import { createRequire } from "node:module";
import path from "node:path";
import fs from "node:fs";

const home = path.resolve(process.env.MINIFLARE_HOME || ".");
const require = createRequire(path.join(home, "package.json"));
const { Miniflare, Log, LogLevel } = require("miniflare");

process.env.TMPDIR = path.join(home, "tmp");
fs.mkdirSync(process.env.TMPDIR, { recursive: true });
const persist = process.env.EXPLORER_PERSIST ? path.resolve(process.env.EXPLORER_PERSIST) : false;

const mf = new Miniflare({
  host: "127.0.0.1",
  port: parseInt(process.env.EXPLORER_PORT || "0", 10),
  modules: true,
  script: "export default { fetch() { return new Response('ok'); } };",
  compatibilityDate: "2025-09-01",
  kvNamespaces: { KV: process.env.EXPLORER_NS || "bench-ns" },
  kvPersist: persist,
  unsafeLocalExplorer: true,
  cf: false,
  logRequests: false,
  log: new Log(LogLevel.WARN),
});

const url = await mf.ready;
console.log(`explorer ready ${url} pid=${process.pid}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
