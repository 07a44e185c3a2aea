/** The committed bundle on Node 24 posting to a fake Mastodon instance on 127.0.0.1. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAction } from '../support/action.js';
import { startFakeMastodon, type FakeMastodon } from '../support/fake-mastodon.js';

const TOKEN = 'mastodon_test_secret_token';
let server: FakeMastodon | undefined;
afterEach(async () => server?.close());

async function run(srv: FakeMastodon, inputs: Record<string, string> = {}, env: Record<string, string> = {}) {
  return runAction({
    workspace: mkdtempSync(join(tmpdir(), 'lmpa-masto-')),
    inputs: { text: 'widgets 1.2 is out https://example.com/changelog', platform: 'mastodon', 'mastodon-server': srv.url, 'mastodon-token': TOKEN, ...inputs },
    env,
  });
}

describe('the bundled action posting to Mastodon', () => {
  it('posts once; a re-run finds the same status through its Idempotency-Key', async () => {
    server = await startFakeMastodon({ token: TOKEN });
    const first = await run(server, { 'mastodon-visibility': 'unlisted' });
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs).toMatchObject({ status: 'published', replayed: 'false' });
    expect(first.outputs.url).toMatch(/^http/);
    server.advanceClock(60_000);
    const rerun = await run(server, { 'mastodon-visibility': 'unlisted' }, { GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs).toMatchObject({ id: first.outputs.id, url: first.outputs.url, replayed: 'true' });
    expect(server.statuses).toHaveLength(1);
    expect(server.statuses[0]).toMatchObject({ visibility: 'unlisted' });
  });

  it("the post's first language and its content labels become Mastodon's language and sensitive", async () => {
    server = await startFakeMastodon({ token: TOKEN });
    const result = await run(server, { languages: 'pt-BR, en', 'content-labels': 'nudity' });
    expect(result.code, result.stdout).toBe(0);
    expect(server.statuses[0]).toMatchObject({ language: 'pt', sensitive: true });
  });

  it('a connection dropped after the status was saved still ends with one status', async () => {
    server = await startFakeMastodon({ token: TOKEN });
    server.inject('statuses', { kind: 'drop-after-commit' });
    const result = await run(server);
    expect(result.code, result.stdout).toBe(0);
    expect(server.statuses).toHaveLength(1);
  });

  it('a wrong token fails naming mastodon-token, without showing it', async () => {
    server = await startFakeMastodon({ token: TOKEN, echoHeadersInErrors: true });
    const result = await run(server, { 'mastodon-token': 'not-the-right-token-9876' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/mastodon-token/);
    expect(result.stdout.replace(/::add-mask::.*$/gm, '')).not.toContain('not-the-right-token-9876');
  });
});
