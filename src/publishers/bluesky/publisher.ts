/**
 * The direct Bluesky publisher. Exactly once, permanently: every post's record key is a TID
 * derived from its idempotency key and the target's stable anchor time, and every record is
 * written with `putRecord` + `swapRecord: null` (create-if-absent). An identical re-run is a
 * no-op; a record already there with other bytes answers `InvalidSwap` and is reported as
 * is; a half-written thread resumes where it stopped. Never `createRecord` with an rkey (a
 * duplicate gives an opaque 500), never `putRecord` without `swapRecord` (it would edit).
 *
 * One login per run, shared by every publish. Rich text (links, hashtags, resolved
 * mentions), up to 4 images or one video, a link card, threads and a first comment.
 * Bluesky has no scheduling: a post not yet due is reported as waiting and nothing is sent.
 *
 * This module decides what to write and in which order; client.ts carries the calls to
 * Bluesky (login, retries) and embeds.ts builds the first post's images, video or link card.
 */
import { applyMentions, describeMentions, facetsWithLinks, mentionedHandles } from './rich-text.js';
import { BlueskyClient, POST_COLLECTION, sameRepo, type ClientConfig, type Session, type StoredPost, type StrongRef } from './client.js';
import { describeEmbed, Embeds, type EmbedConfig } from './embeds.js';
import { anchorOf, planPosts, recordExtras, type PlannedPost } from './records.js';
import { isXrpcError, toPublishError, XrpcCode } from './xrpc-errors.js';
import { contentChangedWarning } from '../content-change.js';
import { errorMessage, PublishError } from '../../errors.js';
import type { Json } from '../../io/json.js';
import { blueskyPostUrl } from '../links.js';
import { redact } from '../../secrets.js';
import type { PlannedTarget, Publisher, RetractOutcome, TargetResult } from '../types.js';
import { retractRecords } from './retract.js';

// Callers and tests import these from the publisher; they live with the transport now.
export { guardedFetch } from './guarded-fetch.js';
export { sessionScope } from './client.js';

export interface BlueskyConfig extends ClientConfig, EmbedConfig {
  /** The clock that decides whether a scheduled post is due. */
  now?: () => number;
}

interface Written {
  ref: StrongRef;
  replayed: boolean;
  warnings: string[];
}

export class BlueskyPublisher implements Publisher {
  readonly kind = 'bluesky' as const;
  private readonly client: BlueskyClient;
  private readonly embeds: Embeds;

  constructor(private readonly config: BlueskyConfig) {
    this.client = new BlueskyClient(config);
    this.embeds = new Embeds(this.client, config);
  }

  private now(): number {
    return this.config.now?.() ?? Date.now();
  }

  private notDue(target: PlannedTarget): boolean {
    if (target.scheduledAt === undefined) return false;
    const at = Date.parse(target.scheduledAt);
    return !Number.isNaN(at) && at > this.now();
  }

  private plan(target: PlannedTarget): PlannedPost[] {
    if (target.texts.length === 0) throw new PublishError(`${target.label} → bluesky: there is no text to post`);
    const anchor = anchorOf(target);
    if (anchor === undefined) {
      throw new PublishError(`${target.label} → bluesky: no stable time to derive the record keys from (anchorTime is missing); this is a bug in the action, please report it`);
    }
    return planPosts(target, anchor);
  }

  // ─── dry run ──────────────────────────────────────────────────────────────────────────

  async describe(target: PlannedTarget): Promise<unknown> {
    const description: Json = {
      service: this.config.service,
      login: { method: 'com.atproto.server.createSession', identifier: this.config.identifier, password: '***', note: 'once per run, before the first write' },
    };
    // A dry run shows what it can even without an anchor; publishing refuses to guess one.
    const anchored = anchorOf(target) !== undefined;
    if (!anchored) description.warning = 'no anchor time: the record keys below use the current time and are not the ones a publish would use';
    const plan = anchored || target.texts.length === 0 ? this.plan(target) : planPosts(target, this.now());
    if (this.notDue(target)) {
      description.status = 'waiting';
      description.note = `scheduled for ${target.scheduledAt}, not due yet: nothing is sent until a run at or after that time (Bluesky has no native scheduling)`;
    }
    description.writes = plan.map((post) => {
      const facets = facetsWithLinks(post.text, post.links);
      const record: Json = { $type: POST_COLLECTION, text: post.text, createdAt: '<the time of the write>', ...(recordExtras(target) as Json) };
      if (facets.length) record.facets = describeMentions(facets);
      const replyTo = target.options.bluesky?.replyTo;
      const root = replyTo ? (target.options.bluesky?.replyRoot ?? `<the root of the conversation of ${replyTo.uri}, read when publishing>`) : '{uri, cid} of post 1';
      if (post.index > 0) {
        const parent = post.kind === 'first-comment' ? 'post 1' : `post ${post.index}`;
        record.reply = { root, parent: `{uri, cid} of ${parent}` };
      } else if (replyTo) {
        record.reply = { root, parent: replyTo };
      }
      if (post.index === 0) {
        const embed = describeEmbed(target, facets);
        if (embed) record.embed = embed;
      }
      return {
        method: 'com.atproto.repo.putRecord',
        ...(post.part ? { part: post.part } : {}),
        idempotencyKey: post.key,
        body: { repo: '<DID of the logged-in account>', collection: POST_COLLECTION, rkey: post.rkey, swapRecord: null, record },
        note: 'skipped when a record already exists at this rkey (an earlier run posted it)',
      };
    });
    return description;
  }

  // ─── retract ──────────────────────────────────────────────────────────────────────────

  retract(target: PlannedTarget, recorded: TargetResult | undefined): Promise<RetractOutcome> {
    return retractRecords(this.client, this.config.log, target, recorded);
  }

  // ─── publish ──────────────────────────────────────────────────────────────────────────

  async publish(target: PlannedTarget): Promise<TargetResult[]> {
    if (this.notDue(target)) {
      this.config.log.info(`${target.label} → bluesky: scheduled for ${target.scheduledAt}, not due yet; Bluesky has no scheduling, so a run at or after that time posts it`);
      return [
        { label: target.label, publisher: this.kind, platform: target.platform, status: 'waiting', scheduledAt: target.scheduledAt, idempotencyKey: target.idempotencyKey, replayed: false, warnings: [] },
      ];
    }
    const plan = this.plan(target);
    const known = await this.readWithoutLogin(target, plan);
    if (known && plan.every((post) => known.get(post.rkey))) return this.allPosted(target, plan, known);
    const results: TargetResult[] = [];
    let session: Session;
    try {
      session = await this.client.session();
    } catch (error) {
      throw this.failure(error, target, plan, results);
    }
    // A reply to another post: the first post answers it, inside its conversation.
    const replyTo = target.options.bluesky?.replyTo;
    const conversationWarnings: string[] = [];
    let root: StrongRef | undefined = replyTo ? (target.options.bluesky?.replyRoot ?? (await this.conversationRoot(session, replyTo, conversationWarnings))) : undefined;
    let parent: StrongRef | undefined = replyTo;
    let first: StrongRef | undefined;
    for (const post of plan) {
      let written: Written;
      try {
        const reply = post.kind === 'first-comment' ? (first && root ? { root, parent: first } : undefined) : root && parent ? { root, parent } : undefined;
        written = await this.writePost(session, target, post, reply, known && sameRepo(known.did, session) ? known.get(post.rkey) : undefined);
      } catch (error) {
        throw this.failure(error, target, plan, results, `at://${session.did}/${POST_COLLECTION}/${post.rkey}`);
      }
      if (post.index === 0) written.warnings.push(...conversationWarnings);
      results.push(this.result(target, post, written));
      if (post.index === 0) {
        first = written.ref;
        root ??= written.ref;
      }
      if (post.kind === 'post') parent = written.ref;
    }
    return results;
  }

  /** The first post of the conversation `parent` belongs to: its own reply root, else itself. */
  private async conversationRoot(session: Session, parent: StrongRef, warnings: string[]): Promise<StrongRef> {
    const match = /^at:\/\/([^/]+)\/app\.bsky\.feed\.post\/([^/]+)$/.exec(parent.uri);
    try {
      if (!match) throw new Error('not a post AT-URI');
      const res = await session.xrpc.getRecord(match[1]!, POST_COLLECTION, match[2]!);
      const root = (res.value as { reply?: { root?: { uri?: unknown; cid?: unknown } } }).reply?.root;
      return typeof root?.uri === 'string' && typeof root.cid === 'string' ? { uri: root.uri, cid: root.cid } : parent;
    } catch (error) {
      warnings.push(`the post replied to (${parent.uri}) could not be read (${errorMessage(error)}), so the reply treats it as the start of its conversation; if it is itself a reply, give 'replyRoot' (bluesky-reply-root-uri and -cid)`);
      return parent;
    }
  }

  private result(target: PlannedTarget, post: PlannedPost, written: Written): TargetResult {
    const result: TargetResult = {
      label: target.label,
      publisher: this.kind,
      platform: target.platform,
      ...(post.part ? { part: post.part } : {}),
      status: 'published',
      uri: written.ref.uri,
      cid: written.ref.cid,
      id: post.rkey,
      idempotencyKey: post.key,
      replayed: written.replayed,
      warnings: written.warnings,
    };
    const url = blueskyPostUrl(written.ref.uri);
    if (url) result.url = url;
    if (target.scheduledAt) result.scheduledAt = target.scheduledAt;
    return result;
  }

  /**
   * A failure, with what was already posted when a thread stopped part-way. Transient
   * failures get code 'failed' (a re-run retries them and resumes the thread).
   */
  private failure(error: unknown, target: PlannedTarget, plan: PlannedPost[], done: TargetResult[], pending?: string): PublishError {
    const e = error instanceof PublishError ? error : toPublishError(`${target.label} → bluesky`, error);
    const transient = e.retryable || (e.cause instanceof PublishError && e.cause.retryable);
    let message = e.message;
    if (e.outcomeUnknown && pending) {
      // The write may have landed: say so, say where to look, and that a re-run is safe.
      if (!/may have been published/.test(message)) message += '. The request reached Bluesky without a usable answer, so the post may have been published';
      message += `; check ${blueskyPostUrl(pending) ?? pending}: re-running the job finds it there by its record key and reports it instead of posting again, or posts it if it is not there`;
    }
    if (done.length > 0) {
      const posted = done.map((r) => `${r.part ?? 'post'} ${r.url ?? r.uri}`).join(', ');
      message += `. Already posted: ${posted}; re-running the job posts the remaining ${plan.length - done.length} (those already posted are found by their record keys and not posted again)`;
    } else if (transient && !(e.outcomeUnknown && pending)) {
      message += '. Re-running the job retries it safely (the record key is fixed, so it cannot post twice)';
    }
    return new PublishError(redact(message), {
      retryable: e.retryable,
      outcomeUnknown: e.outcomeUnknown,
      code: transient ? 'failed' : e.code,
      ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
      cause: e,
    });
  }

  /**
   * A re-run usually finds every post already there. Reading needs no login, so such a run
   * never logs in (logins are rate-limited: 30 per 5 minutes) and sends one read per post;
   * a first run reads the same way before it logs in to write. Returns, per record key, the
   * stored post or null (not there); undefined when reading was not possible.
   */
  private async readWithoutLogin(target: PlannedTarget, plan: PlannedPost[]): Promise<(Map<string, StoredPost | null> & { did: string }) | undefined> {
    const reader = await this.client.reader();
    if (!reader) return undefined;
    try {
      const stored = await Promise.all(plan.map((post) => this.client.getRecord(reader, post.rkey, `${target.label} → bluesky`)));
      return Object.assign(new Map(plan.map((post, i) => [post.rkey, stored[i] ?? null] as const)), { did: reader.did });
    } catch {
      return undefined; // the normal way (log in, then read) decides
    }
  }

  private allPosted(target: PlannedTarget, plan: PlannedPost[], known: Map<string, StoredPost | null>): TargetResult[] {
    return plan.map((post) => {
      const existing = known.get(post.rkey)!;
      this.config.log.info(`${target.label} → bluesky${post.part ? ` (${post.part})` : ''}: already posted at ${existing.ref.uri} (record key ${post.rkey}); not posting again`);
      return this.result(target, post, { ref: existing.ref, replayed: true, warnings: this.otherText(existing, post) });
    });
  }

  /** Writes one post unless its record key already holds a post; never writes twice. */
  /** `known`: what a read just before found at the record key (null: nothing); undefined: read now. */
  private async writePost(session: Session, target: PlannedTarget, post: PlannedPost, reply: { root: StrongRef; parent: StrongRef } | undefined, known?: StoredPost | null): Promise<Written> {
    const { log } = this.config;
    const what = `${target.label} → bluesky${post.part ? ` (${post.part})` : ''}`;
    // A post that appeared since that read is still caught: putRecord with swapRecord null never overwrites.
    const existing = known !== undefined ? (known ?? undefined) : await this.client.getRecord(session, post.rkey, what);
    if (existing) {
      log.info(`${what}: already posted at ${existing.ref.uri} (record key ${post.rkey}, key ${post.key}); not posting again`);
      return { ref: existing.ref, replayed: true, warnings: this.otherText(existing, post) };
    }

    const warnings: string[] = [];
    const record = await this.buildRecord(session, target, post, reply, warnings);
    log.info(`${what}: com.atproto.repo.putRecord rkey ${post.rkey} (create-if-absent; idempotency key ${post.key})`);
    // A retry resends the same record under the same rkey: it cannot post twice. When an
    // earlier attempt may have landed, a no-op answer means this run wrote the post.
    let mayHaveLanded = false;
    const outcome = await this.client.xrpc(
      what,
      async () => {
        const res = await session.xrpc.putRecord({ repo: session.did, collection: POST_COLLECTION, rkey: post.rkey, record, swapRecord: null });
        return { ref: { uri: res.uri, cid: res.cid }, noop: res.commit === undefined };
      },
      {
        write: true,
        recover: (error) => (isXrpcError(error, XrpcCode.invalidSwap) ? { value: undefined } : undefined),
        failed: (e) => (mayHaveLanded ||= e.outcomeUnknown),
      },
    );
    if (outcome) return { ref: outcome.ref, replayed: outcome.noop && !mayHaveLanded, warnings };

    // InvalidSwap: a post is already at this rkey with other bytes (an earlier run wrote it
    // at another time, or with another link card). That post stands.
    const stored = await this.client.getRecord(session, post.rkey, what);
    if (!stored) throw new PublishError(redact(`${what}: Bluesky answered InvalidSwap for record key ${post.rkey}, but no record is there now; re-run the job`), { retryable: true });
    log.info(`${what}: already posted at ${stored.ref.uri}; not posting again`);
    return { ref: stored.ref, replayed: true, warnings: this.otherText(stored, post) };
  }

  /**
   * A record at our key with other text is either this post edited since the earlier run,
   * or — about n²/2,048,000 likely for n posts sharing one anchor time — another post whose
   * record key collided. Either way nothing is written; say so.
   */
  private otherText(stored: StoredPost, post: PlannedPost): string[] {
    if (stored.text === undefined || stored.text === post.text) return [];
    return [contentChangedWarning(blueskyPostUrl(stored.ref.uri) ?? stored.ref.uri, stored.text, post.text)];
  }

  private async buildRecord(session: Session, target: PlannedTarget, post: PlannedPost, reply: { root: StrongRef; parent: StrongRef } | undefined, warnings: string[]): Promise<Json> {
    const detected = facetsWithLinks(post.text, post.links);
    const handles = mentionedHandles(detected);
    const dids = new Map(await Promise.all(handles.map(async (h) => [h, await this.client.resolveHandle(session, h)] as const)));
    const { facets, unresolved } = applyMentions(detected, dids);
    for (const handle of unresolved) warnings.push(`@${handle} is not a Bluesky account that could be found; it is posted as plain text, not as a mention`);

    // The time of the write, not the anchor: only the record key must be stable.
    const record: Json = { $type: POST_COLLECTION, text: post.text, createdAt: new Date(this.now()).toISOString(), ...(recordExtras(target) as Json) };
    if (facets.length) record.facets = facets;
    if (reply) record.reply = { root: reply.root, parent: reply.parent };
    if (post.index === 0) {
      const embed = await this.embeds.embedFor(session, target, detected, warnings);
      if (embed) record.embed = embed;
    }
    return record;
  }
}
