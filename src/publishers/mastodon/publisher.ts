/**
 * The direct Mastodon publisher: statuses (and threads of replies) posted with the user's
 * access token on their own instance.
 *
 * Exactly once. Every status goes out with an `Idempotency-Key` header and the same JSON
 * bytes on every retry. Mastodon remembers a key for about an hour per account and answers
 * a repeat with the ORIGINAL status, whatever the new body says — the media ids included.
 * Uploads are not idempotent, so a re-run uploads its media again, and the status it gets
 * back carries the first run's media; the new uploads are then deleted (best effort).
 * Beyond the hour the action's ledger (ARCHITECTURE.md, Exactly once) has to catch a re-run.
 *
 * Threads. A text over the instance's limit becomes a thread: post i ≥ 2 is sent under
 * its own key (planned with the target) as a reply to post i − 1. Since every post has its own key, a
 * re-run after a failure midway gets the posts already written back from Mastodon and
 * continues from the first one missing.
 *
 * Replayed. Mastodon does not say that an answer is a replay, so it is inferred: a status
 * was posted by an earlier run when its `created_at` lies before this run began, on the
 * server's clock (the Date header of the instance request gives the offset; the margin is
 * the header's one-second resolution plus the round trip), or when it carries other media
 * than this run uploaded. A re-run within a second or two of the first run reads as new.
 * A scheduled status has no creation time: only the media comparison applies to it.
 */
import { contentChangedWarning } from '../content-change.js';
import { PublishError } from '../../errors.js';
import { compact } from '../../io/json.js';
import type { PlannedTarget, Publisher, RetractOutcome, TargetResult } from '../types.js';
import { rescheduleStatus, retractStatuses } from './lifecycle.js';
import { MastodonClient, type MastodonConfig } from './client.js';
import { fetchInstanceLimits, MASTODON_DEFAULTS, type InstanceLimits } from './instance.js';
import { bytes, discardUploads, mediaFacts, mediaProblems, prepareMedia, uploadMedia } from './media.js';
import { planTexts, statusBody, statusKey } from './status-requests.js';
import { postStatus, sameIds, sameText, statusText, type Answer } from './statuses.js';

// The names this module has always exported, wherever they live now.
export { rateLimitWaitMs, type MastodonConfig } from './client.js';
export { MASTODON_DEFAULTS, readInstanceLimits, type InstanceLimits } from './instance.js';
export { mediaProblems } from './media.js';
export { planTexts } from './status-requests.js';
export { statusText } from './statuses.js';

export class MastodonPublisher implements Publisher {
  readonly kind = 'mastodon' as const;
  private readonly client: MastodonClient;
  /** Local time this publisher was made: before any request of this run. */
  private readonly startedAt = Date.now();
  private instancePending: Promise<InstanceLimits> | undefined;
  private limits: InstanceLimits | undefined;

  constructor(config: MastodonConfig) {
    this.client = new MastodonClient(config);
  }

  private get base(): string {
    return this.client.base;
  }

  private get host(): string {
    return this.client.host;
  }

  // ───────────────────────────── dry run ─────────────────────────────

  async describe(target: PlannedTarget): Promise<unknown> {
    const limits = this.limits ?? { ...MASTODON_DEFAULTS, clockSkewMs: 0, clockUncertaintyMs: 0 };
    const problems: string[] = [];
    let texts = target.texts;
    try {
      texts = planTexts(target, limits, this.host);
    } catch (error) {
      if (!(error instanceof PublishError)) throw error;
      problems.push(error.message);
    }
    problems.push(...mediaProblems(target.media.map(mediaFacts), limits, this.host));
    const auth = { Authorization: 'Bearer ***' };
    const mediaIds = target.media.map((_, i) => `<id of upload ${i + 1}>`);
    return compact({
      limits: this.limits
        ? { maxCharacters: limits.maxCharacters, charactersReservedPerUrl: limits.urlWeight, from: `${this.base}/api/v2/instance` }
        : { maxCharacters: limits.maxCharacters, charactersReservedPerUrl: limits.urlWeight, from: "Mastodon's defaults; the instance's own limits are read when publishing" },
      requests: [
        { method: 'GET', url: `${this.base}/api/v2/instance` },
        ...target.media.map((m, i) => ({
          method: 'POST',
          url: `${this.base}/api/v2/media`,
          headers: auth,
          form: compact({ file: `<${[mediaFacts(m, i).name, m.mimeType, m.size !== undefined ? bytes(m.size) : undefined].filter(Boolean).join(', ')}>`, description: m.alt }),
        })),
        ...texts.map((text, i) => ({
          method: 'POST',
          url: `${this.base}/api/v1/statuses`,
          headers: { ...auth, 'Content-Type': 'application/json', 'Idempotency-Key': statusKey(target, i) },
          body: JSON.parse(statusBody(target, text, i === 0 ? mediaIds : [], i > 0 ? `<id of post ${i}>` : undefined)) as unknown,
        })),
      ],
      problems: problems.length > 0 ? problems : undefined,
    });
  }

  // ───────────────────────────── retract ─────────────────────────────

  retract(target: PlannedTarget, recorded: TargetResult | undefined): Promise<RetractOutcome> {
    return retractStatuses(this.client, target, recorded);
  }

  reschedule(target: PlannedTarget & { scheduledAt: string }, recorded: TargetResult): Promise<TargetResult> {
    return rescheduleStatus(this.client, target, recorded);
  }

  // ───────────────────────────── publish ─────────────────────────────

  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    if (!this.base) throw new PublishError("Input 'mastodon-server' is empty; set it to your instance's URL, e.g. https://mastodon.social");
    const limits = await this.instance();
    const texts = planTexts(target, limits, this.host);
    if (texts.length > 1 && target.texts.length === 1) {
      this.client.log.info(`${target.label} → mastodon: the text is over ${this.host}'s limit of ${limits.maxCharacters} characters; posting it as a thread of ${texts.length}`);
    }
    const media = await prepareMedia(this.client, target, limits);
    const warnings = media.filter((m) => !m.alt?.trim()).map((m) => `media '${m.name}' has no alt text; add 'alt' so that people using screen readers know what it shows`);
    const uploaded: string[] = [];
    for (const m of media) uploaded.push(await uploadMedia(this.client, m));

    const results: TargetResult[] = [];
    let parent: string | undefined;
    for (const [i, text] of texts.entries()) {
      const key = statusKey(target, i);
      const sentMedia = i === 0 ? uploaded : [];
      const part = texts.length > 1 ? `${i + 1}/${texts.length}` : undefined;
      const what = `${target.label} → mastodon${part ? ` (${part})` : ''}`;
      let answer: Answer;
      try {
        answer = await postStatus(this.client, what, key, statusBody(target, text, sentMedia, parent), target.scheduledAt !== undefined);
      } catch (error) {
        if (this.publishedAtItsTime(target, error)) return [this.publishedAtItsTimeResult(target, key)];
        throw this.partialThread(error, results, i, texts.length);
      }
      const otherMedia = sentMedia.length > 0 && !sameIds(answer.mediaIds, sentMedia);
      // Mastodon answers a repeated key with the original status, whatever this body says.
      const earlier = answer.content !== undefined ? statusText(answer.content) : undefined;
      const otherText = earlier !== undefined && !sameText(earlier, text);
      const replayed = otherMedia || otherText || (answer.createdAt !== undefined && answer.createdAt < this.runStartOnServer(limits));
      if (otherMedia) await discardUploads(this.client, what, uploaded);
      const changed = otherText ? [contentChangedWarning(answer.url ?? answer.uri, earlier, text)] : [];
      results.push(this.result(target, answer, key, part, replayed, [...(i === 0 ? warnings : []), ...changed]));
      parent = answer.id;
    }
    return results;
  }

  private result(target: PlannedTarget, answer: Answer, key: string, part: string | undefined, replayed: boolean, warnings: string[]): TargetResult {
    const result: TargetResult = {
      label: target.label,
      publisher: this.kind,
      platform: target.platform,
      status: answer.scheduled ? 'queued' : 'published',
      id: answer.id,
      idempotencyKey: key,
      replayed,
      warnings: [...warnings],
    };
    if (part) result.part = part;
    if (answer.uri) result.uri = answer.uri;
    if (answer.url) result.url = answer.url;
    if (answer.scheduled) result.scheduledAt = answer.scheduledAt ?? target.scheduledAt;
    if (target.scheduledAt !== undefined && !answer.scheduled) {
      result.warnings.push(`${this.host} published the post at once instead of scheduling it for ${target.scheduledAt}`);
    }
    return result;
  }

  /**
   * A re-run after the scheduled time: the key names a scheduled status that Mastodon no
   * longer has (404), because it was published at its time (or deleted by hand before it).
   */
  private publishedAtItsTime(target: PlannedTarget, error: unknown): boolean {
    return target.scheduledAt !== undefined && Date.parse(target.scheduledAt) <= Date.now() && error instanceof PublishError && error.code === 'not_found';
  }

  private publishedAtItsTimeResult(target: PlannedTarget, key: string): TargetResult {
    this.client.log.info(`${target.label} → mastodon: the status scheduled under key ${key} is no longer scheduled on ${this.host}; its time (${target.scheduledAt}) has passed`);
    return {
      label: target.label,
      publisher: this.kind,
      platform: target.platform,
      status: 'published',
      scheduledAt: target.scheduledAt!,
      idempotencyKey: key,
      replayed: true,
      warnings: [
        `an earlier run scheduled this post for ${target.scheduledAt}; ${this.host} no longer lists it as scheduled, so it was published at its time (or deleted by hand before it) — nothing was posted now. Mastodon does not say which status it became: check the account`,
      ],
    };
  }

  /** This run's start on the server's clock, less the uncertainty of that clock. */
  private runStartOnServer(limits: InstanceLimits): number {
    return this.startedAt + limits.clockSkewMs - limits.clockUncertaintyMs;
  }

  /** Adds what a failed thread already has to the error: those posts exist, a re-run continues. */
  private partialThread(error: unknown, done: TargetResult[], index: number, total: number): unknown {
    if (!(error instanceof PublishError) || done.length === 0) return error;
    const posted = done.map((r) => r.url ?? r.id).join(', ');
    const range = done.length === 1 ? 'Post 1' : `Posts 1–${done.length}`;
    const transient = error.code === 'failed' || error.outcomeUnknown;
    return new PublishError(
      `${error.message}. ${range} of the thread of ${total} ${done.length === 1 ? 'is' : 'are'} published (${posted}); post ${index + 1} is not: ${transient ? '' : 'once the cause is fixed, '}re-running the job within an hour continues the thread from post ${index + 1} without posting the others again`,
      { code: error.code, outcomeUnknown: error.outcomeUnknown, cause: error },
    );
  }

  /** The instance's limits: asked once per run (a failed ask is asked again by the next target). */
  private instance(): Promise<InstanceLimits> {
    this.instancePending ??= fetchInstanceLimits(this.client).then(
      (limits) => (this.limits = limits),
      (error: unknown) => {
        this.instancePending = undefined;
        throw error;
      },
    );
    return this.instancePending;
  }
}
