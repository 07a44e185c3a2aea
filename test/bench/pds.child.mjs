/**
 * Bench helper: a real Bluesky PDS (test/support/pds.ts, startTestPds) in its own process.
 *
 * Runs under Node 20: the PDS's native better-sqlite3 is built for the Node that installed
 * node_modules. Node 20 cannot load TypeScript, so pds.ts is first turned into JavaScript by
 * Node 24's own type stripper (module.stripTypeScriptTypes, mode 'transform'), its bare
 * dynamic imports are pointed at the packages in this repository's node_modules, and the
 * result is imported from a temporary file. The suite's helper is used as is, not copied.
 *
 * Usage: <node20> pds.child.mjs <node24>
 * Protocol (line-based, lines prefixed "BENCH " so stray PDS logs cannot be mistaken):
 *   on start: BENCH {url, handle, did, appPassword}   (an account 'bench.test')
 *   stdin "count <did>" → BENCH {posts}                (app.bsky.feed.post records of did)
 * When stdin ends the PDS and PLC are destroyed, the temp files removed, and it exits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const node24 = process.argv[2];
if (!node24) throw new Error('usage: pds.child.mjs <path of node 24>');
const source = readFileSync(new URL('../support/pds.ts', import.meta.url), 'utf8');
const stripped = spawnSync(
  node24,
  ['--no-warnings', '-e', "process.stdout.write(require('node:module').stripTypeScriptTypes(require('node:fs').readFileSync(0, 'utf8'), { mode: 'transform' }))"],
  { input: source, encoding: 'utf8', maxBuffer: 16 << 20 },
);
if (stripped.status !== 0) throw new Error(`could not strip types from pds.ts: ${stripped.stderr}`);
const js = stripped.stdout.replace(/\bimport\((['"])([^'".][^'"]*)\1\)/g, (whole, _q, spec) =>
  spec.startsWith('node:') ? whole : `import(${JSON.stringify(import.meta.resolve(spec))})`,
);
const dir = mkdtempSync(join(tmpdir(), 'lmpa-bench-pds-'));
const file = join(dir, 'pds.mjs');
writeFileSync(file, js);
const { startTestPds } = await import(pathToFileURL(file).href);
rmSync(dir, { recursive: true, force: true });

const say = (value) => process.stdout.write(`BENCH ${JSON.stringify(value)}\n`);
const pds = await startTestPds();
try {
  const account = await pds.createAccount('bench');
  say({ url: pds.url, handle: account.handle, did: account.did, appPassword: account.appPassword });
} catch (error) {
  await pds.close();
  throw error;
}

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const [command, arg] = line.split(' ');
  try {
    if (command === 'count') say({ posts: (await pds.listPosts(arg)).length });
    else say({ error: `unknown command ${line}` });
  } catch (error) {
    say({ error: String(error?.message ?? error) });
  }
});
lines.on('close', async () => {
  await pds.close();
  process.exit(0);
});
