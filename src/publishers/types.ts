/**
 * The seam between the orchestration and the networks. Each publisher lives in its own folder
 * with a descriptor — what it needs and guarantees, read by the orchestration instead of
 * naming publishers — and a Publisher, which receives fully planned targets with their keys
 * and turns the keys into a guarantee on its platform. A new publisher is one folder and one
 * line in registry.ts.
 */
import type { FieldProblem, InputError, PostFileError } from '../errors.js';
import type { Log } from '../io/log.js';
import type { RetryPolicy } from '../io/retry.js';
import type { ResolvedMedia } from '../model/media.js';
import type { Platform } from '../model/platforms.js';
import type { PostDefinition } from '../model/post.js';
import type { TextLink } from '../text/rich-text.js';

export type PublisherKind = 'letmepost' | 'bluesky' | 'mastodon' | 'x';

/**
 * published / queued: done. waiting: not due yet (Bluesky has no native scheduling).
 * validated: dry run. failed: transient, a re-run retries. rejected: permanent.
 * unknown: the outcome could not be learnt (see the message).
 */
export type TargetStatus = 'published' | 'queued' | 'waiting' | 'validated' | 'failed' | 'rejected' | 'unknown' | 'retracted' | 'cancelled' | 'kept';

/**
 * What a run does with a target, planned from its post file: publish it (the default),
 * delete what an earlier run published (`retract` in the file; never without it), cancel
 * what is still queued (the push deleted the file), or apply an edit of the file to what is
 * still queued (a published post is never changed by an edit).
 */
export type TargetOperation = { readonly kind: 'publish' } | { readonly kind: 'retract'; readonly reason?: string } | { readonly kind: 'cancel' } | { readonly kind: 'edit' };

/** What a retract did on the platform. */
export interface RetractOutcome {
  /** The posts deleted now (links, else URIs or ids), in the order deleted. */
  deleted: string[];
  /** Why nothing (more) was deleted, when that is so: nothing found, already gone, or the platform cannot. */
  kept?: string;
  /** A post the user asked to delete stays because the platform cannot delete it: a strict retraction fails on it. */
  refused?: boolean;
}

/** Every key a target may be sent under, derived from its own (made in plan/keys.ts only). */
export interface TargetKeys {
  /** The target's own key (and its first post's). */
  readonly base: string;
  /** The key of post i (0-based) of a thread: `parts[0]` is `base`. */
  readonly parts: readonly string[];
  readonly firstComment: string;
  /** The keys a re-run moves to after a replayed transient failure, in order (r1, r2, …). */
  readonly recoveries: readonly string[];
  /** For `base` and each recovery key: the key of the same request in the fallback request shape. */
  readonly alternate: Readonly<Record<string, string>>;
  /** The target's id in the ledger's commit-status context. */
  readonly ledgerId: string;
}

/** The per-platform options of a post, as its target's platform takes them (only that platform's). */
export type PlatformOptions = Readonly<Pick<PostDefinition, 'bluesky' | 'mastodon' | 'twitter' | 'tiktok' | 'pinterest' | 'threads'>>;

/** One post target ready to send: everything checked and derived, read-only. */
export interface PlannedTarget {
  /** Human label for logs and the summary: the post file (and document) or 'inputs'. */
  readonly label: string;
  readonly publisher: PublisherKind;
  readonly platform: Platform;
  /** letmepost account id, or 'bluesky' / 'mastodon' / 'x' for the direct adapters. */
  readonly account: string;
  /** The target's own key (`keys.base`). */
  readonly idempotencyKey: string;
  readonly keys: TargetKeys;
  /** The texts to post: one, or several for a thread. */
  readonly texts: readonly string[];
  /** Per text, links over spans of it (UTF-16 offsets), for a publisher with `linkFacets`; absent: links are found in the text. */
  readonly links?: readonly (readonly TextLink[])[];
  readonly media: readonly ResolvedMedia[];
  /** UTC, with Z. */
  readonly scheduledAt?: string;
  /** The schedule as the user wrote it, for messages. */
  readonly scheduledAtAsWritten?: string;
  readonly firstComment?: string;
  /** A stable time for publishers that need one (Bluesky record keys): epoch ms. */
  readonly anchorTime?: number;
  /** The commit the durable ledger records this post on (the inline post's commit, or the commit that added the post file). */
  readonly ledgerCommit?: string;
  readonly options: PlatformOptions;
  /** The post's languages (BCP-47 tags), for a publisher that `takes` them. */
  readonly languages?: readonly string[];
  /** The author's content warnings (self-labels), for a publisher that `takes` them. */
  readonly labels?: readonly string[];
  /** Absent: publish. */
  readonly operation?: TargetOperation;
  /** The most posts a long text may be split into (the `max-thread-posts` input). */
  readonly maxThreadPosts: number;
  /** The error for a problem at a field of the post, naming the input or the file:line. */
  problem(path: (string | number)[], message: string): InputError | PostFileError;
}

export interface TargetResult {
  label: string;
  publisher: PublisherKind;
  platform: Platform;
  /** Which post of a thread (1-based) or 'first-comment'; absent for a single post. */
  part?: string;
  status: TargetStatus;
  uri?: string;
  url?: string;
  cid?: string;
  id?: string;
  scheduledAt?: string;
  /** The key this post was sent under (a thread's later posts and recoveries have their own). */
  idempotencyKey: string;
  /** The target's own key, stable across runs. */
  targetKey?: string;
  replayed: boolean;
  warnings: string[];
  error?: string;
}

export type { Log };

export interface Publisher {
  readonly kind: PublisherKind;
  /**
   * Publishes (or schedules) one target and returns one result per post written (a thread
   * yields several). Throws PublishError when the target cannot be published.
   */
  publish(target: PlannedTarget): Promise<TargetResult[]>;
  /** The exact request(s) a publish would send, secrets redacted: shown by dry-run. */
  describe(target: PlannedTarget): Promise<unknown>;
  /**
   * Deletes what an earlier run published (or queued) for this target: `recorded` is what
   * the ledger holds, if anything. Deleting what is already gone is no error. Absent: the
   * platform cannot (the descriptor's `retractEffect` says why).
   */
  retract?(target: PlannedTarget, recorded: TargetResult | undefined): Promise<RetractOutcome>;
  /**
   * Moves a queued post (`recorded`, from the ledger) to the target's new scheduled time and
   * returns it as queued now. Absent: the platform cannot (the descriptor's `editEffect` says so).
   */
  reschedule?(target: PlannedTarget & { scheduledAt: string }, recorded: TargetResult): Promise<TargetResult>;
}

/** How a publisher reaches its service: the same for every publisher; tests inject fetch, wait and the retry policy. */
export interface TransportConfig {
  /** Time limit of each request. */
  requestTimeoutMs: number;
  /** Epoch ms: no attempt starts after it. */
  deadline: number;
  log: Log;
  fetch?: typeof fetch;
  wait?: (ms: number) => Promise<void>;
  retry?: Partial<Omit<RetryPolicy, 'deadline'>>;
}

/** What a publisher is made with, besides its own settings. */
export interface PublisherEnv {
  /** Epoch ms: no attempt starts after it. */
  deadline: number;
  log: Log;
  requestTimeoutMs: number;
}

/** What preflight knows of a post and one of its targets, for a publisher's own checks. */
export interface PreflightInput {
  post: PostDefinition;
  platform: Platform;
  account: string;
  texts: readonly string[];
  media: readonly ResolvedMedia[];
  /** The path of this target in the post (['targets', i]), for problems about who serves it. */
  targetPath: (string | number)[];
}

/** What a publisher needs and guarantees: read by the orchestration, which never names publishers. */
export interface PublisherDescriptor<S = unknown> {
  readonly kind: PublisherKind;
  /** For messages: 'letmepost', 'the direct Bluesky publisher'. */
  readonly title: string;
  /** The service a direct publisher posts to ('Bluesky'), for "the direct Bluesky or Mastodon publisher"; none for letmepost. */
  readonly directTo?: string;
  /** Whether a target goes through this publisher (its account says so). */
  serves(target: { platform: Platform; account: string }): boolean;
  /** How long the platform itself remembers a key (Infinity: for ever), and how to say it. */
  readonly idempotencyWindowMs: number;
  readonly idempotencyWindowText: string;
  /** The same in a list of windows: 'letmepost 24 h'; none when the window never ends. */
  readonly idempotencyWindowBrief?: string;
  /** The shortest lead a scheduled time needs (-Infinity: no native scheduling, a later run posts when due). */
  readonly minScheduleLeadMs: number;
  /** It needs a stable time per post (derived record keys). */
  readonly needsAnchorTime: boolean;
  /** It posts threads: a `thread` list, and a long text split into posts. */
  readonly postsThreads: boolean;
  /** Links travel beside the text (Bluesky's link facets): rendered Markdown shows a link's label, not its URL. */
  readonly linkFacets?: boolean;
  /** The post fields it carries to its platform beyond text and media: `languages`, content `labels`. */
  readonly takes?: { readonly languages?: boolean; readonly labels?: boolean };
  /** How many posts a long text becomes, when that is known before sending; undefined when the server decides. */
  splitCount?(text: string, options: PlatformOptions): number;
  /** Whether each text must fit the platform's cap before sending (else it is split, or the server's own limit decides). */
  readonly checksTextCap: boolean;
  /** How the length is judged when the cap is not known before sending, for the preview. */
  readonly lengthNote?: string;
  /** A hint added to a too-long text's message, when it has one. */
  textCapHint?(platform: Platform): string;
  /** What `retract: true` does, for the preview and the log: what it deletes, or why it cannot. */
  readonly retractEffect: { readonly deletesPublished: boolean; readonly text: string };
  /** What an edit of a post file does to its queued post, for the preview (a published post never changes). */
  readonly editEffect: string;
  /** A text edit of a queued post cancels it (the publisher's `retract`) and queues the edited post in its place: the platform cancels queued posts but never changes their text. */
  readonly replacesEditedText?: boolean;
  /** Its own checks of a post for one target (who it serves, media, options). */
  checks(input: PreflightInput): FieldProblem[];
  /** Its secret settings, registered with the runner so the log masks them. */
  secrets(settings: S): Array<string | undefined>;
  /** Missing credentials, as input errors. */
  credentialErrors(settings: S): InputError[];
  /** Makes the publisher (its SDK is loaded only now). */
  create(settings: S, env: PublisherEnv): Promise<Publisher>;
}
