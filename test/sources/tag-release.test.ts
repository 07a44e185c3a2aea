/**
 * Which runs read the release of their tag (sources/tag-release.ts): only a workflow_dispatch
 * on a tag whose event carries no release; a missing release or a failing API is said, never
 * fatal.
 */
import { describe, expect, it } from 'vitest';
import type { RunContext } from '../../src/context.js';
import { withReleaseOfTag } from '../../src/sources/tag-release.js';

const BASE = { eventName: 'workflow_dispatch', ref: 'refs/tags/v2.0.0', payload: { inputs: {} }, repository: 'octo/widgets' };
const ctx = (over: Partial<RunContext>): RunContext => ({ ...BASE, ...over }) as RunContext;
const RELEASE = { tag_name: 'v2.0.0', name: 'widgets 2' };

describe('the release of the run tag', () => {
  it.each<[string, Partial<RunContext>]>([
    ['a release event (it carries its release)', { eventName: 'release', payload: { release: { tag_name: 'v2.0.0' } } }],
    ['a push of the tag', { eventName: 'push' }],
    ['a dispatch on a branch', { ref: 'refs/heads/main' }],
  ])('is not read for %s', async (_, over) => {
    let asked = 0;
    const given = ctx(over);
    const result = await withReleaseOfTag(given, { releaseByTag: async () => (asked++, RELEASE) }, { info: () => {}, warning: () => {} });
    expect(result).toBe(given);
    expect(asked).toBe(0);
  });

  it('a dispatch on a tag with a release: the payload carries it, and the log says so', async () => {
    const said: string[] = [];
    const result = await withReleaseOfTag(ctx({}), { releaseByTag: async (tag) => (tag === 'v2.0.0' ? RELEASE : undefined) }, { info: (m) => said.push(m), warning: (m) => said.push(m) });
    expect(result.payload.release).toEqual(RELEASE);
    expect(said).toEqual(['This run is on the tag v2.0.0: its release is read with the GitHub API, so {{ release.* }} and its assets are those of that release.']);
  });

  it.each<[string, () => Promise<Record<string, unknown> | undefined>, 'info' | 'warning', RegExp]>([
    ['a tag without a release', async () => undefined, 'info', /the tag v2\.0\.0, which has no published release/],
    ['an API that fails', () => Promise.reject(new Error('GitHub API answered 403')), 'warning', /could not be read with the GitHub API \(GitHub API answered 403\).*contents: read/],
  ])('%s: nothing added, said as %s', async (_, lookup, level, message) => {
    const said: Array<[string, string]> = [];
    const given = ctx({});
    const result = await withReleaseOfTag(given, { releaseByTag: lookup }, { info: (m) => said.push(['info', m]), warning: (m) => said.push(['warning', m]) });
    expect(result).toBe(given);
    expect(said).toHaveLength(1);
    expect(said[0]![0]).toBe(level);
    expect(said[0]![1]).toMatch(message);
  });
});
