/**
 * The transport to one Bluesky account for one run: one login shared by every publish, a
 * reader that needs no login (a re-run that finds everything posted never logs in), and
 * every XRPC call under the retry policy. It knows how to talk to Bluesky, not what to post.
 */
import { PublishError } from '../../errors.js';
import { clockWith, DEFAULT_RETRY, withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import { registerSecret } from '../../secrets.js';
import type { TransportConfig } from '../types.js';
import { guardedFetch } from './guarded-fetch.js';
import { isRecordNotFound, isXrpcError, loginError, toPublishError, XrpcCode } from './xrpc-errors.js';
import { Xrpc, type BlobRef } from './xrpc.js';

export interface ClientConfig extends TransportConfig {
  /** Handle, DID or email of the account. */
  identifier: string;
  /** An app password (never the account password: it may require an emailed code). */
  appPassword: string;
  /** The PDS or entryway to log in to, e.g. https://bsky.social. */
  service: string;
}

/** The collection every post record is written to and read from. */
export const POST_COLLECTION = 'app.bsky.feed.post';

export interface Session {
  xrpc: Xrpc;
  /** The repository to read and write: the account's DID; before a login, possibly its handle (a PDS reads a repo by either). */
  did: string;
  /** The account's handle, once logged in. */
  handle?: string;
}

/** Whether a read made as `readAs` (a DID or a handle, before logging in) read the repository the session writes to. */
export function sameRepo(readAs: string, session: Session): boolean {
  return readAs === session.did || (session.handle !== undefined && readAs.toLowerCase() === session.handle.toLowerCase());
}

export interface StrongRef {
  uri: string;
  cid: string;
}

export interface StoredPost {
  ref: StrongRef;
  text?: string;
}

export interface XrpcOptions<T> {
  /** A write: an answer lost in transit means the outcome is unknown. */
  write?: boolean;
  /** Turns an expected error into a value instead of a failure. */
  recover?: (error: unknown) => { value: T } | undefined;
  /** Sees every failed attempt. */
  failed?: (error: PublishError) => void;
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

export class BlueskyClient {
  private loginPromise: Promise<Session> | undefined;
  private readerPromise: Promise<Session | undefined> | undefined;
  /** Handle → DID (undefined: no such account), resolved once per run. */
  private readonly dids = new Map<string, Promise<string | undefined>>();
  /** Shared with the media downloads, so that they retry and time out like the rest. */
  readonly policy: RetryPolicy;
  readonly clock: Clock;
  readonly fetchImpl: typeof fetch;

  constructor(private readonly config: ClientConfig) {
    registerSecret(config.appPassword);
    this.policy = { ...DEFAULT_RETRY, ...config.retry, deadline: config.deadline };
    this.clock = clockWith(config.wait);
    this.fetchImpl = config.fetch ?? ((input, init) => fetch(input, init));
  }

  /** A connection without a session, for public reads; undefined when the DID cannot be known without logging in (an email identifier). */
  reader(): Promise<Session | undefined> {
    this.readerPromise ??= (async () => {
      const { identifier } = this.config;
      const xrpc = this.connection();
      if (identifier.startsWith('did:')) return { xrpc, did: identifier };
      if (identifier.includes('@') || !identifier.includes('.')) return undefined;
      // A PDS reads a repository by its handle too: no resolveHandle first, one request less.
      // Whose repository it was is checked against the login before the read is trusted.
      return { xrpc, did: identifier.replace(/^@/, '') };
    })();
    return this.readerPromise;
  }

  /** A connection to the service through the guarded fetch; every token it ever holds (login, refresh) is a secret. */
  private connection(): Xrpc {
    const { service, requestTimeoutMs, deadline } = this.config;
    return new Xrpc(service, guardedFetch(this.fetchImpl, requestTimeoutMs, deadline), (tokens) => {
      registerSecret(tokens.accessJwt);
      registerSecret(tokens.refreshJwt);
    });
  }

  /** Logs in once per run; concurrent publishes share the one login. */
  session(): Promise<Session> {
    this.loginPromise ??= this.login();
    return this.loginPromise;
  }

  private async login(): Promise<Session> {
    const { identifier, service, log, requestTimeoutMs } = this.config;
    const xrpc = this.connection();
    log.info(`Bluesky: logging in to ${service} as ${identifier} (once for this run)`);
    const session = await withRetries(
      'Bluesky login',
      async () => {
        try {
          return await xrpc.login(identifier, this.config.appPassword);
        } catch (error) {
          throw loginError(error, identifier, { timeoutMs: requestTimeoutMs });
        }
      },
      this.policy,
      log,
      this.clock,
    );
    log.info(`Bluesky: logged in as ${session.handle} (${session.did})`);
    if (sessionScope(session.accessJwt) === 'com.atproto.access') {
      log.warning(
        `Bluesky: 'bluesky-app-password' holds the account's main password, not an app password. It works, but it can change the account's settings and is lost with every password change; create an app password at https://bsky.app/settings/app-passwords, store it as the secret instead, and change the main password if it was ever shared`,
      );
    }
    return { xrpc, did: session.did, handle: session.handle };
  }

  /**
   * One XRPC call with the retry policy: errors become PublishErrors (retryable or not);
   * `recover` turns an expected error into a value. The connection refreshes the session on
   * ExpiredToken and resends by itself; should the answer still say expired, the call is
   * tried once more with the session it then holds.
   */
  xrpc<T>(what: string, call: () => Promise<T>, opts: XrpcOptions<T> = {}): Promise<T> {
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

  /** The post at a record key of the session's account; undefined when there is none. */
  async getRecord(session: Session, rkey: string, what: string): Promise<StoredPost | undefined> {
    return this.xrpc<StoredPost | undefined>(
      `${what}: reading record ${rkey}`,
      async () => {
        const res = await session.xrpc.getRecord(session.did, POST_COLLECTION, rkey);
        if (!res.cid) throw new PublishError(`${what}: Bluesky returned record ${rkey} without a cid`, { retryable: true });
        const text = res.value?.text;
        return { ref: { uri: res.uri, cid: res.cid }, ...(typeof text === 'string' ? { text } : {}) };
      },
      { recover: (error) => (isRecordNotFound(error) ? { value: undefined } : undefined) },
    );
  }

  /** A handle's DID, asked once per run; undefined when there is no such account. */
  resolveHandle(session: Session, handle: string, what = `resolving the mention @${handle}`): Promise<string | undefined> {
    let pending = this.dids.get(handle);
    if (!pending) {
      pending = this.xrpc<string | undefined>(
        what,
        () => session.xrpc.resolveHandle(handle),
        // 400: no such handle (or not a valid one). Anything else is trouble worth a retry.
        { recover: (error) => (isXrpcError(error) && (error.status) === 400 ? { value: undefined } : undefined) },
      );
      this.dids.set(handle, pending);
      pending.catch(() => this.dids.delete(handle));
    }
    return pending;
  }

  uploadBlob(session: Session, what: string, bytes: Buffer, mimeType: string): Promise<BlobRef> {
    return this.xrpc(what, () => session.xrpc.uploadBlob(new Uint8Array(bytes), mimeType));
  }
}
