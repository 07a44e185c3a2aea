import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runContextFromEnv } from '../../src/context.js';
import { childKey, explicitKey, filePostKey, inlinePostKey, isValidKey } from '../../src/plan/keys.js';
import { REPO_ROOT, runnerEnv } from '../support/action.js';

const base = runContextFromEnv(runnerEnv('/ws'), {});
const target = { platform: 'bluesky', account: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' };

describe('inline post keys', () => {
  it.each([
    ['a re-run with a new run attempt', { GITHUB_RUN_ATTEMPT: '2' }],
    ['the same workflow file triggered from another ref', { GITHUB_WORKFLOW_REF: 'octo/widgets/.github/workflows/release.yml@refs/heads/main' }],
    ['a matrix leg of the same job', { MATRIX_NODE: '24' }],
  ])('%s reuses the key', (_, overrides) => {
    const ctx = runContextFromEnv(runnerEnv('/ws', overrides), {});
    expect(inlinePostKey(ctx, target)).toBe(inlinePostKey(base, target));
  });

  it.each([
    ['another commit', { GITHUB_SHA: '0000000000000000000000000000000000000001' }],
    ['another run (a second dispatch, release or cron tick)', { GITHUB_RUN_ID: '99999' }],
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

describe('scheduled inline post keys', () => {
  const at = '2026-12-24T09:00:00.000Z';
  it('do not depend on the run or the commit, so a cron run on a later commit finds the post', () => {
    const later = runContextFromEnv(runnerEnv('/ws', { GITHUB_RUN_ID: '5555', GITHUB_SHA: '0000000000000000000000000000000000000003' }), {});
    expect(inlinePostKey(later, target, at)).toBe(inlinePostKey(base, target, at));
  });
  it.each([
    ['another scheduled time', base, '2026-12-25T09:00:00.000Z'],
    ['another step', runContextFromEnv(runnerEnv('/ws', { GITHUB_ACTION: 'other' }), {}), at],
  ] as const)('%s gets another key', (_, ctx, when) => {
    expect(inlinePostKey(ctx, target, when)).not.toBe(inlinePostKey(base, target, at));
  });
  it('differ from the unscheduled key of the same step', () => {
    expect(inlinePostKey(base, target, at)).not.toBe(inlinePostKey(base, target));
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

describe("the README's scenario table is what the keys do", () => {
  const scheduledAt = '2026-12-24T09:00:00.000Z';
  const later = { GITHUB_SHA: '0000000000000000000000000000000000000002' };
  /** Each scenario: the runs to compare, as runner variables (and a schedule, an explicit key). */
  type Run = { env?: Record<string, string>; scheduledAt?: string; key?: string };
  const scenarios: Record<string, [Run, Run]> = {
    'Re-run all jobs, any attempt, even days later': [{}, { env: { GITHUB_RUN_ATTEMPT: '3' } }],
    'Re-run failed jobs': [{}, { env: { GITHUB_RUN_ATTEMPT: '2' } }],
    'A second `workflow_dispatch` run on the same commit': [{ env: { GITHUB_EVENT_NAME: 'workflow_dispatch' } }, { env: { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_RUN_ID: '1002' } }],
    'A second release on the same commit (`v2.0.0-rc.1`, then `v2.0.0`)': [{ env: { GITHUB_REF: 'refs/tags/v2.0.0-rc.1' } }, { env: { GITHUB_REF: 'refs/tags/v2.0.0', GITHUB_RUN_ID: '1002' } }],
    'The next `schedule` (cron) run, on the same or a later commit': [{ env: { GITHUB_EVENT_NAME: 'schedule' } }, { env: { GITHUB_EVENT_NAME: 'schedule', GITHUB_RUN_ID: '1002' } }],
    'A cron run that carries a fixed `scheduled-at`, on a later commit': [{ scheduledAt }, { scheduledAt, env: { ...later, GITHUB_RUN_ID: '1002' } }],
    'The legs of a `matrix` job': [{}, {}],
    'The same step in another job': [{}, { env: { GITHUB_JOB: 'announce-again' } }],
    'Two runs that give the same `idempotency-key`': [{ key: 'release-v2' }, { key: 'release-v2', env: { ...later, GITHUB_RUN_ID: '1002' } }],
  };
  const keyOf = (run: Run) => {
    const ctx = runContextFromEnv(runnerEnv('/ws', run.env ?? {}), {});
    return run.key !== undefined ? explicitKey(run.key, target, 1) : inlinePostKey(ctx, target, run.scheduledAt);
  };
  const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('<!-- identity-scenarios:start -->'), readme.indexOf('<!-- identity-scenarios:end -->'));
  const rows = [...section.matchAll(/^\| (?!Scenario|---)(.+?) \| (the same post|a new post) \|$/gm)].map((m) => [m[1]!, m[2]!] as const);

  it('lists every scenario once', () => {
    expect(rows.map(([scenario]) => scenario).sort()).toEqual(Object.keys(scenarios).sort());
  });

  it.each(rows)('%s: %s', (scenario, result) => {
    const [a, b] = scenarios[scenario]!;
    expect(keyOf(a) === keyOf(b) ? 'the same post' : 'a new post').toBe(result);
  });
});
