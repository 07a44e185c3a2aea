/**
 * OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as the X API takes it for user-context
 * requests: the four keys of an app's "Keys and tokens" page sign every request, with a fresh
 * nonce and timestamp each time. Small on purpose: node:crypto, no dependency.
 *
 * Signed: the method, the URL without its query, and every parameter — the oauth_* ones, the
 * query's, and a form body's (a JSON or multipart body is not signed, RFC 5849 §3.4.1.3.1).
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface OAuth1Credentials {
  /** The app's API key (consumer key) and its secret. */
  consumerKey: string;
  consumerSecret: string;
  /** The user's access token and its secret. */
  token: string;
  tokenSecret: string;
}

/** RFC 3986 percent-encoding, as RFC 5849 §3.6 requires (encodeURIComponent leaves !'()* bare). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The base string URI (§3.4.1.2): lower-case scheme and host, the port only when not the default, no query or fragment. */
export function baseStringUri(url: URL): string {
  const port = url.port && !((url.protocol === 'https:' && url.port === '443') || (url.protocol === 'http:' && url.port === '80')) ? `:${url.port}` : '';
  return `${url.protocol.toLowerCase()}//${url.hostname.toLowerCase()}${port}${url.pathname}`;
}

/** The signature base string (§3.4.1): method, URI and the normalised parameters, each encoded. */
export function signatureBaseString(method: string, url: URL, params: ReadonlyArray<readonly [string, string]>): string {
  const normalized = params
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return [method.toUpperCase(), percentEncode(baseStringUri(url)), percentEncode(normalized)].join('&');
}

/** HMAC-SHA1 of the base string, keyed by the two secrets (§3.4.2), base64. */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  return createHmac('sha1', `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`).update(baseString).digest('base64');
}

export interface SignOptions {
  /** Form-encoded body parameters (signed); omit for JSON and multipart bodies. */
  form?: ReadonlyArray<readonly [string, string]>;
  /** For tests: a fixed nonce and timestamp (seconds). */
  nonce?: string;
  timestamp?: number;
}

/** The oauth_* parameters of a request, its signature included. */
export function oauthParams(credentials: OAuth1Credentials, method: string, url: URL, opts: SignOptions = {}): Array<[string, string]> {
  const oauth: Array<[string, string]> = [
    ['oauth_consumer_key', credentials.consumerKey],
    ['oauth_nonce', opts.nonce ?? randomBytes(16).toString('hex')],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(opts.timestamp ?? Math.floor(Date.now() / 1000))],
    ['oauth_token', credentials.token],
    ['oauth_version', '1.0'],
  ];
  const params = [...oauth, ...url.searchParams.entries(), ...(opts.form ?? [])];
  const signature = hmacSha1Signature(signatureBaseString(method, url, params), credentials.consumerSecret, credentials.tokenSecret);
  return [...oauth, ['oauth_signature', signature]];
}

/** The `Authorization: OAuth …` header of one request (a new nonce each call). */
export function authorizationHeader(credentials: OAuth1Credentials, method: string, url: URL, opts: SignOptions = {}): string {
  return `OAuth ${oauthParams(credentials, method, url, opts)
    .map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`)
    .join(', ')}`;
}
