/**
 * The XRPC calls this publisher makes, over plain fetch: JSON in and out, the session's
 * tokens (refreshed once when the server says they expired), and every failure as an
 * XrpcError that xrpc-errors.ts turns into a PublishError.
 *
 * Why not @atproto/api's AtpAgent: this publisher needs six endpoints, and the SDK's
 * generated client for every lexicon was 0.9 MB that each Bluesky run had to load and
 * compile — more than half of a Bluesky run's start-up (test/bench/RESULTS.md). The wire
 * format is small and stable (https://atproto.com/specs/xrpc); the suites run every call
 * against a real PDS.
 */
import { PublishError } from '../../errors.js';
import { isObject, type Json } from '../../io/json.js';

/** `status` of an XrpcError that has no HTTP status (as @atproto/xrpc numbers them). */
export const XrpcStatus = {
  /** The request failed in transit (refused, reset, timed out): no answer. */
  network: 1,
  /** An answer came, but not one this client can read (cut short, not JSON). */
  invalidResponse: 2,
} as const;

/** A failed XRPC call: the HTTP status (or an XrpcStatus), the error name the server gave, its headers. */
export class XrpcError extends Error {
  constructor(
    readonly status: number,
    readonly error: string | undefined,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'XrpcError';
  }
}

/** A blob as uploadBlob answers it and a record embeds it (the JSON form; never inspected). */
export interface BlobRef {
  $type: 'blob';
  ref: { $link: string };
  mimeType: string;
  size: number;
}

export interface RecordAnswer {
  uri: string;
  cid?: string;
  value: Json;
}

export interface PutAnswer {
  uri: string;
  cid: string;
  /** Absent when the write changed nothing (the same record was already there). */
  commit?: Json;
}

export interface SessionAnswer {
  did: string;
  handle: string;
  accessJwt: string;
  refreshJwt: string;
  didDoc?: unknown;
}

export interface Tokens {
  accessJwt: string;
  refreshJwt: string;
}

/** Where a DID document says the account's PDS is, when it says so with an http(s) URL. */
export function pdsEndpoint(didDoc: unknown): string | undefined {
  if (!isObject(didDoc) || !Array.isArray(didDoc.service)) return undefined;
  for (const service of didDoc.service as unknown[]) {
    if (!isObject(service) || typeof service.serviceEndpoint !== 'string') continue;
    const id = typeof service.id === 'string' ? service.id : '';
    if (!id.endsWith('#atproto_pds') || service.type !== 'AtprotoPersonalDataServer') continue;
    try {
      const url = new URL(service.serviceEndpoint);
      if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
    } catch {
      // not a URL: keep talking to the service the inputs name
    }
  }
  return undefined;
}

type Body = { json: unknown } | { bytes: Uint8Array; encoding: string };

/**
 * One account's XRPC connection. Before login it reads public records from the service the
 * inputs name; after login it sends to the account's own PDS (from the DID document the
 * login returns — an entryway such as bsky.social hands each account to its PDS), with the
 * access token, and swaps in new tokens by refreshSession when the server answers
 * ExpiredToken (once per call; `onTokens` sees every token so it can be masked).
 */
export class Xrpc {
  private tokens: Tokens | undefined;
  private endpoint: string;

  constructor(
    private readonly service: string,
    private readonly fetchImpl: typeof fetch,
    private readonly onTokens: (tokens: Tokens) => void = () => undefined,
  ) {
    this.endpoint = service;
  }

  async login(identifier: string, password: string): Promise<SessionAnswer> {
    const answer = await this.send<SessionAnswer>('POST', 'com.atproto.server.createSession', {}, { json: { identifier, password } }, undefined);
    if (!isObject(answer) || typeof answer.accessJwt !== 'string' || typeof answer.refreshJwt !== 'string' || typeof answer.did !== 'string') {
      throw new XrpcError(XrpcStatus.invalidResponse, undefined, 'the login answer holds no session');
    }
    this.useTokens({ accessJwt: answer.accessJwt, refreshJwt: answer.refreshJwt });
    this.endpoint = pdsEndpoint(answer.didDoc) ?? this.service;
    return answer;
  }

  getRecord(repo: string, collection: string, rkey: string): Promise<RecordAnswer> {
    return this.call('GET', 'com.atproto.repo.getRecord', { repo, collection, rkey });
  }

  putRecord(input: { repo: string; collection: string; rkey: string; record: Json; swapRecord: string | null }): Promise<PutAnswer> {
    return this.call('POST', 'com.atproto.repo.putRecord', {}, { json: input });
  }

  deleteRecord(input: { repo: string; collection: string; rkey: string }): Promise<Json> {
    return this.call('POST', 'com.atproto.repo.deleteRecord', {}, { json: input });
  }

  async resolveHandle(handle: string): Promise<string> {
    const answer = await this.call<{ did?: unknown }>('GET', 'com.atproto.identity.resolveHandle', { handle });
    if (typeof answer.did !== 'string') throw new XrpcError(XrpcStatus.invalidResponse, undefined, `resolveHandle answered without a DID for ${handle}`);
    return answer.did;
  }

  async uploadBlob(bytes: Uint8Array, encoding: string): Promise<BlobRef> {
    const answer = await this.call<{ blob?: unknown }>('POST', 'com.atproto.repo.uploadBlob', {}, { bytes, encoding });
    if (!isObject(answer.blob)) throw new XrpcError(XrpcStatus.invalidResponse, undefined, 'uploadBlob answered without a blob');
    return answer.blob as unknown as BlobRef;
  }

  /** A call with the session's token when there is one; an expired token is refreshed once. */
  private async call<T>(method: 'GET' | 'POST', nsid: string, params: Record<string, string>, body?: Body): Promise<T> {
    const tokens = this.tokens;
    try {
      return await this.send<T>(method, nsid, params, body, tokens?.accessJwt);
    } catch (error) {
      if (!tokens || !(error instanceof XrpcError) || error.error !== 'ExpiredToken') throw error;
      await this.refresh(tokens);
      return this.send<T>(method, nsid, params, body, this.tokens?.accessJwt);
    }
  }

  private async refresh(expired: Tokens): Promise<void> {
    // Concurrent calls that all saw the expiry refresh once: the first swaps the tokens.
    if (this.tokens !== expired) return;
    const answer = await this.send<Partial<Tokens>>('POST', 'com.atproto.server.refreshSession', {}, undefined, expired.refreshJwt);
    if (typeof answer.accessJwt !== 'string' || typeof answer.refreshJwt !== 'string') {
      throw new XrpcError(XrpcStatus.invalidResponse, 'ExpiredToken', 'the session refresh answered without tokens');
    }
    this.useTokens({ accessJwt: answer.accessJwt, refreshJwt: answer.refreshJwt });
  }

  private useTokens(tokens: Tokens): void {
    this.onTokens(tokens);
    this.tokens = tokens;
  }

  private async send<T>(method: 'GET' | 'POST', nsid: string, params: Record<string, string>, body: Body | undefined, token: string | undefined): Promise<T> {
    const base = this.tokens && token ? this.endpoint : this.service;
    const url = new URL(`xrpc/${nsid}`, base.endsWith('/') ? base : `${base}/`);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | Uint8Array | undefined;
    if (body && 'json' in body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body) {
      headers['content-type'] = body.encoding;
      payload = body.bytes;
    }

    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      text = await response.text();
    } catch (error) {
      // The guarded fetch's own refusals (a redirect, an answer over the cap) say it best.
      if (error instanceof PublishError) throw error;
      throw new XrpcError(XrpcStatus.network, undefined, error instanceof Error ? error.message : String(error), {}, { cause: error });
    }
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (answerHeaders[name] = value));

    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) {
      if (!isObject(json)) throw new XrpcError(XrpcStatus.invalidResponse, undefined, `${nsid} answered HTTP ${response.status} with a body that is not a JSON object`, answerHeaders);
      return json as T;
    }
    const error = isObject(json) && typeof json.error === 'string' ? json.error : undefined;
    const message = isObject(json) && typeof json.message === 'string' ? json.message : error ?? (response.statusText || `HTTP ${response.status}`);
    throw new XrpcError(response.status, error, message, answerHeaders);
  }
}
