/**
 * Re-announcing a release by hand: a `workflow_dispatch` run started on a release's tag
 * (`gh workflow run announce.yml --ref v2.0.0`) reads that release with the GitHub API, so
 * `{{ release.* }}`, `releaseAsset` and `notesImages` work as in the `release` event. Only
 * then: a dispatch is a deliberate request to post (its own run, so its own post), and no
 * other event pays for the request.
 */
import type { RunContext } from '../context.js';
import { errorMessage } from '../errors.js';
import type { Log } from '../publishers/types.js';

export interface ReleaseLookup {
  releaseByTag(tag: string): Promise<Record<string, unknown> | undefined>;
}

export async function withReleaseOfTag(ctx: RunContext, api: ReleaseLookup, log: Pick<Log, 'info' | 'warning'>): Promise<RunContext> {
  if (ctx.eventName !== 'workflow_dispatch' || !ctx.ref.startsWith('refs/tags/') || ctx.payload.release !== undefined) return ctx;
  const tag = ctx.ref.slice('refs/tags/'.length);
  try {
    const release = await api.releaseByTag(tag);
    if (release === undefined) {
      log.info(`This run is on the tag ${tag}, which has no published release: {{ release.* }} have no value here.`);
      return ctx;
    }
    log.info(`This run is on the tag ${tag}: its release is read with the GitHub API, so {{ release.* }} and its assets are those of that release.`);
    return { ...ctx, payload: { ...ctx.payload, release } };
  } catch (error) {
    log.warning(`This run is on the tag ${tag}, but its release could not be read with the GitHub API (${errorMessage(error)}): {{ release.* }} have no value here. The job needs 'permissions: contents: read'.`);
    return ctx;
  }
}
