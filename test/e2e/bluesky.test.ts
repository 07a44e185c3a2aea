/**
 * The committed bundle, run as the runner runs it on Node 24, posting to the run's real
 * Bluesky PDS on 127.0.0.1 (accounts of this file's own).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tidFromKey } from '../../src/publishers/bluesky/tid.js';
import { createRepo, FIRST_COMMIT_TIME } from '../support/git-repo.js';
import { runAction, type ActionRun } from '../support/action.js';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';

let pds: SharedPds;
let alice: TestAccount;
let bob: TestAccount;
let workspace: string;
let sha: string;

beforeAll(async () => {
  pds = await sharedPds();
  alice = await pds.createAccount('alice');
  bob = await pds.createAccount('bob');
  // A real checkout: the action reads the commit's time from it for the record keys.
  const repo = createRepo();
  workspace = repo.dir;
  sha = repo.write('README.md', '# widgets\n').commit('release');
});

function post(inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    workspace,
    inputs: {
      text: `widgets 1.2 is out with a faster sync #release thanks @${bob.handle} https://example.com/changelog`,
      platform: 'bluesky',
      'bluesky-identifier': alice.handle,
      'bluesky-app-password': alice.appPassword,
      'bluesky-service': pds.url,
      'link-card': 'false',
      ...inputs,
    },
    env: { GITHUB_SHA: sha, ...env },
  });
}

describe('the bundled action posting to a real PDS', () => {
  it('posts once with facets; a re-run finds the same record and reports identical outputs', async () => {
    const first = await post({}, { GITHUB_JOB: 'rerun' });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.outputs).toMatchObject({ status: 'published', replayed: 'false' });
    expect(first.outputs.uri).toMatch(new RegExp(`^at://${alice.did}/app\\.bsky\\.feed\\.post/[2-7a-z]{13}$`));
    expect(first.outputs.url).toBe(`https://bsky.app/profile/${alice.did}/post/${first.outputs.uri!.split('/').pop()}`);
    const record = await pds.getRecord(first.outputs.uri!);
    // Dated when written, not when its commit was made (a TempRepo's commits are in January 2026);
    // the record key still comes from the commit's time.
    expect(Date.parse(record!.value.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(first.outputs.id).toBe(tidFromKey(first.outputs['idempotency-key']!, (FIRST_COMMIT_TIME + 3600) * 1000));
    const features = record?.value.facets.map((f: { features: Array<{ $type: string }> }) => f.features[0]!.$type).sort();
    expect(features).toEqual(['app.bsky.richtext.facet#link', 'app.bsky.richtext.facet#mention', 'app.bsky.richtext.facet#tag']);

    const rerun = await post({}, { GITHUB_JOB: 'rerun', GITHUB_RUN_ATTEMPT: '2' });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs.replayed).toBe('true');
    for (const name of ['uri', 'url', 'cid', 'id', 'status', 'idempotency-key']) expect(rerun.outputs[name], name).toBe(first.outputs[name]);
    const mine = (await pds.listPosts(alice.did)).filter((p) => p.uri === first.outputs.uri);
    expect(mine).toHaveLength(1);
  });

  it("every post of a thread carries the post's languages and its self-labels, as the PDS stores them", async () => {
    const sentence = 'Screenshots of the crash reporter, with the stack traces it now shows. ';
    const run = await post({ text: sentence.repeat(6), languages: 'en, pt-BR', 'content-labels': 'graphic-media' }, { GITHUB_JOB: 'langs' });
    expect(run.code, run.stdout).toBe(0);
    const results = JSON.parse(run.outputs.results!) as Array<{ uri: string }>;
    expect(results.length).toBeGreaterThan(1);
    for (const r of results) {
      const record = await pds.getRecord(r.uri);
      expect(record!.value.langs).toEqual(['en', 'pt-BR']);
      expect(record!.value.labels).toEqual({ $type: 'com.atproto.label.defs#selfLabels', values: [{ val: 'graphic-media' }] });
    }
  });

  it('two concurrent runs of the same step make one record', async () => {
    const before = (await pds.listPosts(alice.did)).length;
    const [a, b] = await Promise.all([post({}, { GITHUB_JOB: 'concurrent' }), post({}, { GITHUB_JOB: 'concurrent', GITHUB_RUN_ATTEMPT: '2' })]);
    expect(a.code, a.stdout).toBe(0);
    expect(b.code, b.stdout).toBe(0);
    expect(a.outputs.uri).toBe(b.outputs.uri);
    expect((await pds.listPosts(alice.did)).length).toBe(before + 1);
  });

  it('a long text becomes a thread; every post is in results', async () => {
    const sentence = 'This release rewrites the sync engine so that large repositories index in seconds. ';
    const run = await post({ text: sentence.repeat(8), 'thread-numbering': 'true' }, { GITHUB_JOB: 'thread' });
    expect(run.code, run.stdout).toBe(0);
    const results = JSON.parse(run.outputs.results!) as Array<{ part: string; uri: string }>;
    expect(results.map((r) => r.part)).toEqual(['1/3', '2/3', '3/3']);
    expect(run.outputs.uri).toBe(results[0]!.uri);
  });

  it('a wrong app password fails with a clear message and exit 1', async () => {
    const run = await post({ 'bluesky-app-password': 'wrong-pass-word-1234' }, { GITHUB_JOB: 'badpass' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/bluesky-identifier|app password/i);
    expect(run.stdout.replace(/::add-mask::.*$/gm, '')).not.toContain('wrong-pass-word-1234');
  });

  it('a post scheduled for later is reported as waiting and not sent', async () => {
    const before = (await pds.listPosts(alice.did)).length;
    const run = await post({ 'scheduled-at': '2099-01-01T09:00:00Z' }, { GITHUB_JOB: 'later' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'waiting', 'scheduled-at': '2099-01-01T09:00:00.000Z', uri: '' });
    expect((await pds.listPosts(alice.did)).length).toBe(before);
  });
});
