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
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { AtpAgent, type BlobRef } from '@atproto/api';
import { applyMentions, describeMentions, detectFacets, firstLink, mentionedHandles } from './rich-text.js';
import { fetchLimited, LimitedFetchError } from '../../io/fetch-limited.js';
import { BLUESKY_MAX_IMAGE_BYTES, fetchLinkCard, LINK_CARD_TIMEOUT_MS } from './link-card.js';
import { anchorOf, planPosts, type PlannedPost } from './records.js';
import { isRecordNotFound, isXrpcError, loginError, toPublishError, XrpcCode } from './xrpc-errors.js';
import { contentChangedWarning } from '../content-change.js';
import { errorMessage, PublishError } from '../../errors.js';
import { RedirectRefused } from '../../io/http.js';
import { blueskyPostUrl } from '../links.js';
import { imageDimensions, sniffMimeType, type ResolvedMedia } from '../../model/media.js';
import { BLUESKY_MAX_VIDEO_BYTES } from './descriptor.js';
import { clockWith, DEFAULT_RETRY, withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import { redact, registerSecret } from '../../secrets.js';
import type { Log, PlannedTarget, Publisher, TargetResult } from '../types.js';

export interface BlueskyConfig {
  /** Handle, DID or email of the account. */
  identifier: string;
  /** An app password (never the account password: it may require an emailed code). */
  appPassword: string;
  /** The PDS or entryway to log in to, e.g. https://bsky.social. */
  service: string;
  /** Time limit of each request to Bluesky. */
  requestTimeoutMs: number;
  /** Epoch ms: no attempt starts after it. */
  deadline: number;
  log: Log;
  fetch?: typeof fetch;
  /** The clock that decides whether a scheduled post is due. */
  now?: () => number;
  /** Time limit for fetching a link card's page, and separately its image (default 5000). */
  linkCardTimeoutMs?: number;
  wait?: (ms: number) => Promise<void>;
  retry?: Partial<Omit<RetryPolicy, 'deadline'>>;
}

const COLLECTION = 'app.bsky.feed.post';
const MAX_IMAGES = 4;
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

interface Session {
  agent: AtpAgent;
  did: string;
}

interface StrongRef {
  uri: string;
  cid: string;
}

interface StoredPost {
  ref: StrongRef;
  text?: string;
}

interface Written {
  ref: StrongRef;
  replayed: boolean;
  warnings: string[];
}

interface Upload {
  blob: BlobRef;
  aspectRatio?: { width: number; height: number };
}

type JsonRecord = Record<string, unknown>;

/** The largest answer read from Bluesky; posts, sessions and records are a few KB. */
const MAX_XRPC_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * Every XRPC call (the SDK sends Requests, or URL + init): the request time limit, shortened so
 * that no request runs past the step's deadline; no redirect followed (a login carries the app
 * password in its body: a `bluesky-service` answering with a redirect to another host must not
 * receive it there); and an answer capped in size.
 */
export function guardedFetch(fetchImpl: typeof fetch, timeoutMs: number, deadline: number): typeof fetch {
  return async (input, init) => {
    const signals = [AbortSignal.timeout(Math.max(1000, Math.min(timeoutMs, deadline - Date.now())))];
    const own = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (own) signals.push(own);
    const response = await fetchImpl(input, { ...init, signal: AbortSignal.any(signals), redirect: 'manual' });
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      await response.body?.cancel().catch(() => undefined);
      throw new RedirectRefused(`Bluesky ${url.pathname.replace(/^\/xrpc\//, '')}`, url, response.headers.get('location') ?? '');
    }
    if (!response.body) return response;
    // The SDK reads the body itself: hand it a stream that stops past the cap.
    let total = 0;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          total += chunk.byteLength;
          if (total > MAX_XRPC_ANSWER_BYTES) controller.error(new PublishError(`Bluesky answered more than ${MAX_XRPC_ANSWER_BYTES.toLocaleString('en-US')} bytes to ${url.pathname}; not read`, { code: 'answer_too_big' }));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * The scope of a session's access token: `com.atproto.appPass` (or `…appPassPrivileged`)
 * after a login with an app password, `com.atproto.access` with the main password.
 */
export function sessionScope(accessJwt: string): string | undefined {
  try {
    const payload: unknown = JSON.parse(Buffer.from(accessJwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const scope = payload !== null && typeof payload === 'object' ? (payload as { scope?: unknown }).scope : undefined;
    return typeof scope === 'string' ? scope : undefined;
  } catch {
    return undefined;
  }
}

function aspectRatioOf(width: number | undefined, height: number | undefined): { width: number; height: number } | undefined {
  return width && height && width > 0 && height > 0 ? { width, height } : undefined;
}

export class BlueskyPublisher implements Publisher {
  readonly kind = 'bluesky' as const;
  private loginPromise: Promise<Session> | undefined;
  private readerPromise: Promise<Session | undefined> | undefined;
  /** Handle → DID (undefined: no such account), resolved once per run. */
  private readonly dids = new Map<string, Promise<string | undefined>>();
  /** Each media file or URL is loaded and uploaded once per run. */
  private readonly uploads = new Map<string, Promise<Upload>>();
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly config: BlueskyConfig) {
    registerSecret(config.appPassword);
    this.policy = { ...DEFAULT_RETRY, ...config.retry, deadline: config.deadline };
    this.clock = clockWith(config.wait);
    this.fetchImpl = config.fetch ?? ((input, init) => fetch(input, init));
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
    const description: JsonRecord = {
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
      const facets = detectFacets(post.text);
      const record: JsonRecord = { $type: COLLECTION, text: post.text, createdAt: '<the time of the write>' };
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
        const embed = this.describeEmbed(target, facets);
        if (embed) record.embed = embed;
      }
      return {
        method: 'com.atproto.repo.putRecord',
        ...(post.part ? { part: post.part } : {}),
        idempotencyKey: post.key,
        body: { repo: '<DID of the logged-in account>', collection: COLLECTION, rkey: post.rkey, swapRecord: null, record },
        note: 'skipped when a record already exists at this rkey (an earlier run posted it)',
      };
    });
    return description;
  }

  private describeEmbed(target: PlannedTarget, facets: ReturnType<typeof detectFacets>): JsonRecord | undefined {
    const source = (m: ResolvedMedia) => `<blob uploaded from ${m.displayPath ?? m.path ?? m.url}>`;
    const video = target.media.find((m) => m.kind === 'video');
    if (video) {
      const ratio = aspectRatioOf(video.width, video.height);
      return { $type: 'app.bsky.embed.video', video: source(video), ...(video.alt !== undefined ? { alt: video.alt } : {}), ...(ratio ? { aspectRatio: ratio } : {}) };
    }
    const images = target.media.filter((m) => m.kind === 'image');
    if (images.length) {
      return {
        $type: 'app.bsky.embed.images',
        images: images.map((m) => {
          const ratio = aspectRatioOf(m.width, m.height);
          return { alt: m.alt ?? '', image: source(m), aspectRatio: ratio ?? '<read from the image>' };
        }),
      };
    }
    const link = target.options.bluesky?.linkCard !== false ? firstLink(facets) : undefined;
    if (link) return { $type: 'app.bsky.embed.external', external: { uri: link, title: '<og:title of the page>', description: '<og:description of the page>', thumb: '<og:image, when it fetches>' }, note: 'fetched when publishing; no card if the page cannot be fetched' };
    return undefined;
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
      session = await this.session();
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
        written = await this.writePost(session, target, post, reply, session.did === known?.did ? known.get(post.rkey) : undefined);
      } catch (error) {
        throw this.failure(error, target, plan, results, `at://${session.did}/${COLLECTION}/${post.rkey}`);
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
      const res = await session.agent.com.atproto.repo.getRecord({ repo: match[1]!, collection: COLLECTION, rkey: match[2]! });
      const root = (res.data.value as { reply?: { root?: { uri?: unknown; cid?: unknown } } }).reply?.root;
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
    const reader = await this.reader();
    if (!reader) return undefined;
    try {
      const stored = await Promise.all(plan.map((post) => this.getRecord(reader, post.rkey, `${target.label} → bluesky`)));
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

  /** An agent without a session, for public reads; undefined when the DID cannot be known without logging in (an email identifier). */
  private reader(): Promise<Session | undefined> {
    this.readerPromise ??= (async () => {
      const { identifier, service, requestTimeoutMs } = this.config;
      const agent = new AtpAgent({ service, fetch: guardedFetch(this.fetchImpl, requestTimeoutMs, this.config.deadline) });
      if (identifier.startsWith('did:')) return { agent, did: identifier };
      if (identifier.includes('@') || !identifier.includes('.')) return undefined;
      const did = await this.resolveHandle({ agent, did: '' }, identifier.replace(/^@/, ''), `resolving the account ${identifier}`).catch(() => undefined);
      return did ? { agent, did } : undefined;
    })();
    return this.readerPromise;
  }

  /** Logs in once per run; concurrent publishes share the one login. */
  private session(): Promise<Session> {
    this.loginPromise ??= this.login();
    return this.loginPromise;
  }

  private async login(): Promise<Session> {
    const { identifier, service, log, requestTimeoutMs } = this.config;
    const agent = new AtpAgent({
      service,
      fetch: guardedFetch(this.fetchImpl, requestTimeoutMs, this.config.deadline),
      // Every token the session ever holds (login, refresh) is a secret.
      persistSession: (_event, session) => {
        registerSecret(session?.accessJwt);
        registerSecret(session?.refreshJwt);
      },
    });
    log.info(`Bluesky: logging in to ${service} as ${identifier} (once for this run)`);
    await withRetries(
      'Bluesky login',
      async () => {
        try {
          await agent.login({ identifier, password: this.config.appPassword });
        } catch (error) {
          throw loginError(error, identifier, { timeoutMs: requestTimeoutMs });
        }
      },
      this.policy,
      log,
      this.clock,
    );
    const session = agent.session;
    if (!session) throw new PublishError('Bluesky login answered without a session; re-run the job');
    registerSecret(session.accessJwt);
    registerSecret(session.refreshJwt);
    log.info(`Bluesky: logged in as ${session.handle} (${session.did})`);
    if (sessionScope(session.accessJwt) === 'com.atproto.access') {
      log.warning(
        `Bluesky: 'bluesky-app-password' holds the account's main password, not an app password. It works, but it can change the account's settings and is lost with every password change; create an app password at https://bsky.app/settings/app-passwords, store it as the secret instead, and change the main password if it was ever shared`,
      );
    }
    return { agent, did: session.did };
  }

  /**
   * One XRPC call with the retry policy: errors become PublishErrors (retryable or not);
   * `recover` turns an expected error into a value. @atproto/api refreshes the session on
   * ExpiredToken and resends by itself; should the answer still say expired, the call is
   * tried once more with the session the agent then holds.
   */
  private xrpc<T>(
    what: string,
    call: () => Promise<T>,
    opts: { write?: boolean; recover?: (error: unknown) => { value: T } | undefined; failed?: (error: PublishError) => void } = {},
  ): Promise<T> {
    let triedAfterExpiry = false;
    return withRetries(
      what,
      async () => {
        try {
          return await call();
        } catch (error) {
          const recovered = opts.recover?.(error);
          if (recovered) return recovered.value;
          let e = toPublishError(what, error, { write: opts.write ?? false, timeoutMs: this.config.requestTimeoutMs });
          if (isXrpcError(error, XrpcCode.expiredToken) && !triedAfterExpiry) {
            triedAfterExpiry = true;
            e = new PublishError(e.message, { retryable: true, code: e.code, retryAfterMs: 0, cause: error });
          }
          opts.failed?.(e);
          throw e;
        }
      },
      this.policy,
      this.config.log,
      this.clock,
    );
  }

  /** Writes one post unless its record key already holds a post; never writes twice. */
  /** `known`: what a read just before found at the record key (null: nothing); undefined: read now. */
  private async writePost(session: Session, target: PlannedTarget, post: PlannedPost, reply: { root: StrongRef; parent: StrongRef } | undefined, known?: StoredPost | null): Promise<Written> {
    const { log } = this.config;
    const what = `${target.label} → bluesky${post.part ? ` (${post.part})` : ''}`;
    // A post that appeared since that read is still caught: putRecord with swapRecord null never overwrites.
    const existing = known !== undefined ? (known ?? undefined) : await this.getRecord(session, post.rkey, what);
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
    const outcome = await this.xrpc(
      what,
      async () => {
        const res = await session.agent.com.atproto.repo.putRecord({ repo: session.did, collection: COLLECTION, rkey: post.rkey, record, swapRecord: null });
        return { ref: { uri: res.data.uri, cid: res.data.cid }, noop: res.data.commit === undefined };
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
    const stored = await this.getRecord(session, post.rkey, what);
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

  private async getRecord(session: Session, rkey: string, what: string): Promise<StoredPost | undefined> {
    return this.xrpc<StoredPost | undefined>(
      `${what}: reading record ${rkey}`,
      async () => {
        const res = await session.agent.com.atproto.repo.getRecord({ repo: session.did, collection: COLLECTION, rkey });
        if (!res.data.cid) throw new PublishError(`${what}: Bluesky returned record ${rkey} without a cid`, { retryable: true });
        const text = (res.data.value as { text?: unknown }).text;
        return { ref: { uri: res.data.uri, cid: res.data.cid }, ...(typeof text === 'string' ? { text } : {}) };
      },
      { recover: (error) => (isRecordNotFound(error) ? { value: undefined } : undefined) },
    );
  }

  private async buildRecord(session: Session, target: PlannedTarget, post: PlannedPost, reply: { root: StrongRef; parent: StrongRef } | undefined, warnings: string[]): Promise<JsonRecord> {
    const detected = detectFacets(post.text);
    const handles = mentionedHandles(detected);
    const dids = new Map(await Promise.all(handles.map(async (h) => [h, await this.resolveHandle(session, h)] as const)));
    const { facets, unresolved } = applyMentions(detected, dids);
    for (const handle of unresolved) warnings.push(`@${handle} is not a Bluesky account that could be found; it is posted as plain text, not as a mention`);

    // The time of the write, not the anchor: only the record key must be stable.
    const record: JsonRecord = { $type: COLLECTION, text: post.text, createdAt: new Date(this.now()).toISOString() };
    if (facets.length) record.facets = facets;
    if (reply) record.reply = { root: reply.root, parent: reply.parent };
    if (post.index === 0) {
      const embed = target.media.length > 0 ? await this.mediaEmbed(session, target, warnings) : await this.linkCardEmbed(session, target, detected, warnings);
      if (embed) record.embed = embed;
    }
    return record;
  }

  // ─── mentions ─────────────────────────────────────────────────────────────────────────

  private resolveHandle(session: Session, handle: string, what = `resolving the mention @${handle}`): Promise<string | undefined> {
    let pending = this.dids.get(handle);
    if (!pending) {
      pending = this.xrpc<string | undefined>(
        what,
        async () => (await session.agent.com.atproto.identity.resolveHandle({ handle })).data.did,
        // 400: no such handle (or not a valid one). Anything else is trouble worth a retry.
        { recover: (error) => (isXrpcError(error) && (error.status as number) === 400 ? { value: undefined } : undefined) },
      );
      this.dids.set(handle, pending);
      pending.catch(() => this.dids.delete(handle));
    }
    return pending;
  }

  // ─── media ────────────────────────────────────────────────────────────────────────────

  private async mediaEmbed(session: Session, target: PlannedTarget, warnings: string[]): Promise<JsonRecord> {
    const images = target.media.filter((m) => m.kind === 'image');
    const videos = target.media.filter((m) => m.kind === 'video');
    const what = `${target.label} → bluesky`;
    if (videos.length > 0 && images.length > 0) throw new PublishError(`${what}: the media mix images and a video; a Bluesky post takes up to ${MAX_IMAGES} images or one video`);
    if (videos.length > 1) throw new PublishError(`${what}: ${videos.length} videos given; a Bluesky post takes one video`);
    if (images.length > MAX_IMAGES) throw new PublishError(`${what}: ${images.length} images given; a Bluesky post takes at most ${MAX_IMAGES}`);

    const video = videos[0];
    if (video) {
      // Best effort: a plain PDS accepts an uploaded blob in app.bsky.embed.video, but
      // bsky.social expects videos to go through its video service (app.bsky.video.*), which
      // transcodes them; a blob uploaded straight to the PDS may not play in the app.
      const upload = await this.upload(session, video);
      if (video.alt === undefined || video.alt.trim() === '') warnings.push(`the video ${this.mediaName(video)} has no alt text; add 'alt' to describe it for people who cannot see it`);
      return {
        $type: 'app.bsky.embed.video',
        video: upload.blob,
        ...(video.alt ? { alt: video.alt } : {}),
        ...(upload.aspectRatio ? { aspectRatio: upload.aspectRatio } : {}),
      };
    }
    const items: JsonRecord[] = [];
    for (const image of images) {
      const upload = await this.upload(session, image);
      if (image.alt === undefined || image.alt.trim() === '') warnings.push(`the image ${this.mediaName(image)} has no alt text; add 'alt' to describe it for people who cannot see it`);
      items.push({ alt: image.alt ?? '', image: upload.blob, ...(upload.aspectRatio ? { aspectRatio: upload.aspectRatio } : {}) });
    }
    return { $type: 'app.bsky.embed.images', images: items };
  }

  private mediaName(m: ResolvedMedia): string {
    return `'${m.displayPath ?? (m.path ? basename(m.path) : m.url)}'`;
  }

  private upload(session: Session, media: ResolvedMedia): Promise<Upload> {
    const source = media.path ? `path:${media.path}` : `url:${media.url}`;
    let pending = this.uploads.get(source);
    if (!pending) {
      pending = this.loadAndUpload(session, media);
      this.uploads.set(source, pending);
      pending.catch(() => this.uploads.delete(source));
    }
    return pending;
  }

  private async loadAndUpload(session: Session, media: ResolvedMedia): Promise<Upload> {
    const name = this.mediaName(media);
    const isVideo = media.kind === 'video';
    const limit = isVideo ? BLUESKY_MAX_VIDEO_BYTES : BLUESKY_MAX_IMAGE_BYTES;
    const limitText = isVideo ? '100 MB' : `${BLUESKY_MAX_IMAGE_BYTES.toLocaleString('en-US')} bytes`;
    const fix = isVideo ? 'shorten or recompress it' : 'resize or recompress it';

    let bytes: Buffer;
    if (media.path) {
      bytes = await readFile(media.path);
    } else if (media.url) {
      const url = media.url;
      bytes = await withRetries(
        `download ${name}`,
        async () => {
          try {
            return (await fetchLimited(url, { fetch: this.fetchImpl, timeoutMs: this.config.requestTimeoutMs, maxBytes: limit, overflow: 'error' })).bytes;
          } catch (error) {
            if (error instanceof LimitedFetchError && error.reason === 'too-big') {
              const size = error.size !== undefined ? `${error.size.toLocaleString('en-US')} bytes` : `more than ${limitText}`;
              throw new PublishError(`the ${media.kind} ${name} is ${size}; Bluesky ${media.kind}s must be at most ${limitText}; ${fix}, or link a smaller file`);
            }
            throw new PublishError(`the ${media.kind} ${name} could not be downloaded: ${errorMessage(error)}`, { retryable: error instanceof LimitedFetchError && error.transient });
          }
        },
        this.policy,
        this.config.log,
        this.clock,
      );
    } else {
      throw new PublishError(`a media item has neither a path nor a url`);
    }

    if (bytes.length > limit) throw new PublishError(`the ${media.kind} ${name} is ${bytes.length.toLocaleString('en-US')} bytes; Bluesky ${media.kind}s must be at most ${limitText}; ${fix}`);
    const mimeType = sniffMimeType(bytes);
    if (mimeType === undefined || (isVideo ? mimeType !== 'video/mp4' : !IMAGE_TYPES.has(mimeType))) {
      throw new PublishError(`the ${media.kind} ${name} is ${mimeType ?? 'not a recognised media type'} (checked by its content); Bluesky takes ${isVideo ? 'MP4 videos' : 'PNG, JPEG, GIF or WebP images'}`);
    }
    const dims = isVideo ? undefined : imageDimensions(bytes);
    const aspectRatio = aspectRatioOf(media.width ?? dims?.width, media.height ?? dims?.height);

    const what = `upload ${name}`;
    this.config.log.info(`${what}: com.atproto.repo.uploadBlob (${bytes.length.toLocaleString('en-US')} bytes, ${mimeType})`);
    // An upload is not a post: uploading the same bytes again yields the same blob.
    const blob = await this.uploadBlob(session, what, bytes, mimeType);
    return { blob, ...(aspectRatio ? { aspectRatio } : {}) };
  }

  private uploadBlob(session: Session, what: string, bytes: Buffer, mimeType: string): Promise<BlobRef> {
    return this.xrpc(what, async () => (await session.agent.com.atproto.repo.uploadBlob(new Uint8Array(bytes), { encoding: mimeType })).data.blob);
  }

  // ─── link card ────────────────────────────────────────────────────────────────────────

  /** The first link's card; any failure means no card and a warning, never a failed post. */
  private async linkCardEmbed(session: Session, target: PlannedTarget, facets: ReturnType<typeof detectFacets>, warnings: string[]): Promise<JsonRecord | undefined> {
    if (target.options.bluesky?.linkCard === false) return undefined;
    const link = firstLink(facets);
    if (!link) return undefined;
    const timeoutMs = this.config.linkCardTimeoutMs ?? LINK_CARD_TIMEOUT_MS;
    let card;
    try {
      card = await fetchLinkCard(link, { fetch: this.fetchImpl, timeoutMs });
    } catch (error) {
      warnings.push(`no link card for ${link}: ${errorMessage(error)}; the post goes out without one`);
      return undefined;
    }
    const external: JsonRecord = { uri: card.uri, title: card.title, description: card.description };
    if (card.thumb) {
      const { bytes, mimeType, url } = card.thumb;
      try {
        external.thumb = await this.uploadBlob(session, `upload the link card image ${url}`, bytes, mimeType);
      } catch (error) {
        warnings.push(`the link card for ${link} has no image: ${errorMessage(error)}`);
      }
    } else if (card.thumbWarning) {
      warnings.push(`the link card for ${link} has no image: ${card.thumbWarning}`);
    }
    this.config.log.info(`${target.label} → bluesky: link card for ${link}: '${card.title}'${external.thumb ? ' with an image' : ''}`);
    return { $type: 'app.bsky.embed.external', external };
  }
}
