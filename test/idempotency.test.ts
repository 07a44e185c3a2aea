import { describe, expect, it } from 'vitest';
import { runContextFromEnv } from '../src/context.js';
import { childKey, explicitKey, filePostKey, inlinePostKey, isValidKey } from '../src/idempotency.js';
import { runnerEnv } from './support/action.js';

const base = runContextFromEnv(runnerEnv('/ws'), {});
const target = { platform: 'bluesky', account: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' };

describe('inline post keys', () => {
  it.each([
    ['a re-run with a new run attempt', { GITHUB_RUN_ATTEMPT: '2' }],
    ['a re-run with a new run id', { GITHUB_RUN_ID: '99999' }],
    ['the same workflow file triggered from another ref', { GITHUB_WORKFLOW_REF: 'octo/widgets/.github/workflows/release.yml@refs/heads/main' }],
    ['a matrix leg of the same job', { MATRIX_NODE: '24' }],
  ])('%s reuses the key', (_, overrides) => {
    const ctx = runContextFromEnv(runnerEnv('/ws', overrides), {});
    expect(inlinePostKey(ctx, target)).toBe(inlinePostKey(base, target));
  });

  it.each([
    ['another commit', { GITHUB_SHA: '0000000000000000000000000000000000000001' }],
    ['another workflow', { GITHUB_WORKFLOW_REF: 'octo/widgets/.github/workflows/merge.yml@refs/heads/main' }],
    ['another job', { GITHUB_JOB: 'announce-again' }],
    ['another step', { GITHUB_ACTION: '__letmepost_letmepost-action_2' }],
    ['another repository', { GITHUB_REPOSITORY: 'octo/gadgets' }],
  ])('%s gets another key', (_, overrides) => {
    const ctx = runContextFromEnv(runnerEnv('/ws', overrides), {});
    expect(inlinePostKey(ctx, target)).not.toBe(inlinePostKey(base, target));
  });

  it.each([
    ['another platform', { ...target, platform: 'twitter' }],
    ['another account', { ...target, account: '00000000-0000-0000-0000-000000000001' }],
  ])('%s gets another key', (_, other) => {
    expect(inlinePostKey(base, other)).not.toBe(inlinePostKey(base, target));
  });

  it('fields cannot be shifted into each other to forge a collision', () => {
    const a = runContextFromEnv(runnerEnv('/ws', { GITHUB_JOB: 'ab', GITHUB_ACTION: 'c' }), {});
    const b = runContextFromEnv(runnerEnv('/ws', { GITHUB_JOB: 'a', GITHUB_ACTION: 'bc' }), {});
    expect(inlinePostKey(a, target)).not.toBe(inlinePostKey(b, target));
  });

  it('is a valid header value of at most 128 characters and names the platform', () => {
    const key = inlinePostKey(base, target);
    expect(isValidKey(key)).toBe(true);
    expect(key.length).toBeLessThanOrEqual(128);
    expect(key).toContain('bluesky');
  });
});

describe('file post keys', () => {
  it('do not depend on the commit, so a later run finds the same key', () => {
    expect(filePostKey('octo/widgets', 'v2-launch', target)).toBe(filePostKey('octo/widgets', 'v2-launch', target));
  });
  it.each([
    ['another post identity', 'octo/widgets', 'v3-launch', target],
    ['another repository', 'octo/gadgets', 'v2-launch', target],
    ['another target', 'octo/widgets', 'v2-launch', { ...target, platform: 'linkedin' }],
  ])('%s gets another key', (_, repository, identity, other) => {
    expect(filePostKey(repository, identity, other)).not.toBe(filePostKey('octo/widgets', 'v2-launch', target));
  });
});

describe('explicit and child keys', () => {
  it('an explicit key is used as given for a single target', () => {
    expect(explicitKey('release-v1-2-0', target, 1)).toBe('release-v1-2-0');
  });
  it('an explicit key gets a distinct suffix per target when cross-posting', () => {
    const a = explicitKey('release-v1-2-0', target, 2);
    const b = explicitKey('release-v1-2-0', { ...target, platform: 'twitter' }, 2);
    expect(a).not.toBe(b);
    expect(a.startsWith('release-v1-2-0-')).toBe(true);
    expect(isValidKey(a) && isValidKey(b)).toBe(true);
  });
  it('an explicit key near the length limit still yields valid per-target keys', () => {
    const long = 'k'.repeat(128);
    expect(isValidKey(explicitKey(long, target, 2))).toBe(true);
  });
  it('child keys are deterministic, distinct per part and valid', () => {
    const key = inlinePostKey(base, target);
    expect(childKey(key, 't2')).toBe(childKey(key, 't2'));
    expect(childKey(key, 't2')).not.toBe(childKey(key, 't3'));
    expect(isValidKey(childKey('k'.repeat(128), 'r1'))).toBe(true);
  });
});
