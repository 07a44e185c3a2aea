import { describe, expect, it } from 'vitest';
import type { TargetResult } from '../../src/publishers/types.js';
import { buildOutputs } from '../../src/report/outputs.js';

function part(n: number, of: number, replayed: boolean, extra: Partial<TargetResult> = {}): TargetResult {
  const key = n === 1 ? 'K' : `K-t${n}`;
  return { label: 'inputs', publisher: 'bluesky', platform: 'bluesky', part: `${n}/${of}`, status: 'published', uri: `at://did:plc:a/app.bsky.feed.post/r${n}`, idempotencyKey: key, targetKey: 'K', replayed, warnings: [], ...extra };
}

describe('the outputs', () => {
  it.each([
    ['a thread found whole', [part(1, 3, true), part(2, 3, true), part(3, 3, true)], 'true'],
    ['a thread resumed after its first post: this run posted the rest', [part(1, 3, true), part(2, 3, false), part(3, 3, false)], 'false'],
    ['a new thread', [part(1, 2, false), part(2, 2, false)], 'false'],
  ] as const)('replayed for %s is %s', (_, results, replayed) => {
    expect(buildOutputs([...results]).outputs.replayed).toBe(replayed);
  });

  it("give the target's own key, not the key a recovery or a later part was sent under", () => {
    const recovered: TargetResult = { label: 'inputs', publisher: 'letmepost', platform: 'bluesky', status: 'published', idempotencyKey: 'K-r1', targetKey: 'K', replayed: false, warnings: [] };
    expect(buildOutputs([recovered]).outputs['idempotency-key']).toBe('K');
  });

  it('describe the first target that succeeded, and list every target in results', () => {
    const failed: TargetResult = { label: 'inputs', publisher: 'letmepost', platform: 'twitter', status: 'failed', idempotencyKey: 'X', replayed: false, warnings: [], error: 'down' };
    const ok = part(1, 1, false, { part: undefined });
    const { outputs } = buildOutputs([failed, ok]);
    expect(outputs).toMatchObject({ status: 'published', uri: ok.uri, 'idempotency-key': 'K' });
    expect(JSON.parse(outputs.results).map((r: { status: string }) => r.status)).toEqual(['failed', 'published']);
  });
});
