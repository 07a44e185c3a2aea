/**
 * The fake letmepost server answers like the REAL one: the conformance exchanges
 * (support/letmepost-conformance.ts) run against the fake, and their transcript must equal the
 * one recorded from the real open-source server (support/letmepost-real-transcript.json,
 * recorded with `npm run conformance -- --record` against a real server on loopback, see
 * support/letmepost-conformance-cli.mjs). Shapes and flags are compared, never texts, ids or times.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLetmepost, type FakeLetmepost } from '../support/fake-letmepost.js';
import { EXCHANGES, diffTranscripts, runConformance, skippedExchanges, type Transcript } from '../support/letmepost-conformance.js';

const TOKEN = 'lmp_test_conformance';
/** Like the real server's accounts: a Bluesky account with a UUIDv7 id (same as the CLI's). */
const ACCOUNT = { id: '01a2378d-7b06-7d9c-9ce6-3c7478d27e87', platform: 'bluesky', displayName: 'alice.test' };
const recorded = JSON.parse(readFileSync(new URL('../support/letmepost-real-transcript.json', import.meta.url), 'utf8')) as Transcript;

let fake: FakeLetmepost;
let transcript: Transcript;

beforeAll(async () => {
  fake = await startFakeLetmepost({ token: TOKEN, accounts: [ACCOUNT] });
  transcript = await runConformance({
    url: fake.url,
    apiKey: TOKEN,
    accountId: ACCOUNT.id,
    control: { slow: async (ms) => fake.platform({ delayMs: ms }), down: async (on) => fake.platform({ down: on }) },
  });
}, 60_000);
afterAll(async () => fake?.close());

describe('the fake letmepost answers like the real server', () => {
  it('the recorded transcript covers every exchange, none skipped', () => {
    expect(new Set(recorded.entries.map((e) => e.exchange))).toEqual(new Set(EXCHANGES.map((e) => e.name)));
    expect(skippedExchanges(recorded, transcript)).toEqual([]);
  });

  it.each(EXCHANGES.map((e) => [e.name, e.about] as const))('%s: %s', (name) => {
    const pick = (t: Transcript): Transcript => ({ ...t, entries: t.entries.filter((e) => e.exchange === name) });
    expect(diffTranscripts(pick(recorded), pick(transcript))).toEqual([]);
  });

  it('the whole transcript is equal, entry by entry', () => {
    expect(transcript.entries).toEqual(recorded.entries);
  });
});
