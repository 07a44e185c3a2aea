/**
 * The seam between the orchestrator and the networks: one Publisher per network. A
 * publisher receives fully validated targets with their idempotency keys and turns the key
 * into a guarantee on its platform.
 */
import type { InputError, PostFileError } from '../errors.js';
import type { ResolvedMedia } from '../model/media.js';
import type { Platform } from '../model/platforms.js';
import type { PostDefinition } from '../model/post.js';

export type PublisherKind = 'letmepost' | 'bluesky' | 'mastodon';

/**
 * published / queued: done. waiting: not due yet (Bluesky has no native scheduling).
 * validated: dry run. failed: transient, a re-run retries. rejected: permanent.
 * unknown: the outcome could not be learnt (see the message).
 */
export type TargetStatus = 'published' | 'queued' | 'waiting' | 'validated' | 'failed' | 'rejected' | 'unknown';

/** One post target ready to send: everything checked, nothing left to derive. */
export interface PlannedTarget {
  /** Human label for logs and the summary: the post file (and document) or 'inputs'. */
  label: string;
  publisher: PublisherKind;
  platform: Platform;
  /** letmepost account id, or 'bluesky' / 'mastodon' for the direct adapters. */
  account: string;
  idempotencyKey: string;
  /** The texts to post: one, or several for a thread. */
  texts: string[];
  media: ResolvedMedia[];
  /** UTC, with Z. */
  scheduledAt?: string;
  /** The schedule as the user wrote it, for messages. */
  scheduledAtAsWritten?: string;
  firstComment?: string;
  /** A stable time for platforms that need one (Bluesky record keys): epoch ms. */
  anchorTime?: number;
  /** The commit the durable ledger records this post on (the inline post's commit, or the commit that added the post file). */
  ledgerCommit?: string;
  post: PostDefinition;
  /** The most posts a long text may be split into (the `max-thread-posts` input). */
  maxThreadPosts?: number;
  /** The error for a problem at a field of the post, naming the input or the file:line. */
  problem?(path: (string | number)[], message: string): InputError | PostFileError;
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
  /** The key this post was sent under (a thread's later posts and recoveries derive their own). */
  idempotencyKey: string;
  /** The target's own key, stable across runs: the base the part keys derive from. */
  targetKey?: string;
  replayed: boolean;
  warnings: string[];
  error?: string;
}

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export interface Publisher {
  readonly kind: PublisherKind;
  /**
   * Publishes (or schedules) one target and returns one result per post written (a thread
   * yields several). Throws PublishError when the target cannot be published.
   */
  publish(target: PlannedTarget): Promise<TargetResult[]>;
  /** The exact request(s) a publish would send, secrets redacted: shown by dry-run. */
  describe(target: PlannedTarget): Promise<unknown>;
}
