/**
 * A fake X API v2 on 127.0.0.1, for the direct X publisher's tests. It checks what X checks
 * and refuses what X refuses, with X's own error bodies:
 *
 * - OAuth 1.0a: every request's `Authorization: OAuth …` is verified as X does — the
 *   consumer key and token must be the app's, the method HMAC-SHA1, the timestamp within
 *   5 minutes, the nonce unused, and the signature recomputed here from the request itself
 *   (method, URL as received, query and form parameters; its own encoder, not the action's).
 *   Anything else: 401 `Unauthorized`. A wrong signer fails every test.
 * - The app: not in a Project → 403 `client-not-enrolled`; read-only permissions → 403
 *   `oauth1-permissions` on writes; no credits → 402 `CreditsDepleted`.
 * - `POST /2/tweets` (JSON): `text`, `reply.in_reply_to_tweet_id`, `quote_tweet_id`; over
 *   280 weighted characters (twitter-text) → 403; a reply or quote of an unknown tweet →
 *   403/400; the same text again by the account → 403 duplicate content. 201 with `data`.
 * - `POST /2/media/upload` (multipart `media`, `media_category=tweet_image`; JPEG, PNG or
 *   WebP by its bytes, 5 MB at most), `POST /2/media/metadata` (alt text, 1,000 characters at
 *   most); a tweet's `media.media_ids` must name uploads of this account (at most 4).
 * - `GET /2/users/me`, `GET /2/users/:id/tweets` (when `canRead`): the account and its
 *   recent tweets, newest first, text with & < > escaped as X returns it.
 * - Rate limits: `x-rate-limit-*` headers; a `rate-limit` fault answers 429.
 *
 * Faults, queued per route, are taken one per request: `reset-before-read` (nothing
 * happens), `http` (an answer, nothing stored), `rate-limit` (429), `drop-after-commit` and
 * `error-after-commit` (the tweet is stored, then the answer is lost or a 503).
 */
import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import twitterText from 'twitter-text';
import { readBody, startOnLoopback } from './http-fake.js';

export interface FakeXCredentials {
  consumerKey: string;
  consumerSecret: string;
  token: string;
  tokenSecret: string;
}

export const FAKE_X_CREDENTIALS: FakeXCredentials = {
  consumerKey: 'xAppKey0123456789abcdef',
  consumerSecret: 'xAppSecret_0123456789abcdefghijklmnopqrstuvwxyzABCD',
  token: '1234567890-xAccessToken0123456789abcdefghijkl',
  tokenSecret: 'xAccessTokenSecret_0123456789abcdefghijklmnop',
};

export interface FakeXOptions {
  credentials?: FakeXCredentials;
  /** The app is attached to a Project (default true). */
  enrolled?: boolean;
  /** 'read-write' (default) or 'read': the access token's permissions. */
  permissions?: 'read' | 'read-write';
  /** The developer account has credits (default true). */
  credits?: boolean;
  /** The app may read (GET /2/users/me and the timeline); default true. */
  canRead?: boolean;
  /** Tweets by others that may be replied to or quoted. */
  existingTweets?: string[];
  username?: string;
}

export type XFault =
  | { kind: 'none' }
  | { kind: 'reset-before-read' }
  | { kind: 'drop-after-commit' }
  | { kind: 'error-after-commit'; status?: number }
  | { kind: 'http'; status: number; body: unknown; headers?: Record<string, string> }
  /** 429 with x-rate-limit-reset `resetInSeconds` ahead (default 1). */
  | { kind: 'rate-limit'; resetInSeconds?: number };

export type XRoute = 'tweets' | 'media' | 'metadata' | 'users-me' | 'timeline' | 'any';

export interface FakeMedia {
  id: string;
  type: string;
  size: number;
  category: string;
  alt?: string;
}

export interface RecordedXRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Whether the OAuth 1.0a signature was valid. */
  signed: boolean;
}

export interface FakeTweet {
  id: string;
  text: string;
  inReplyTo?: string;
  quoteOf?: string;
  mediaIds?: string[];
}

export interface FakeX {
  url: string;
  requests: RecordedXRequest[];
  tweets: FakeTweet[];
  media: FakeMedia[];
  inject(route: XRoute, ...faults: XFault[]): void;
  /** POST /2/tweets requests received (signed or not). */
  tweetRequests(): RecordedXRequest[];
  close(): Promise<void>;
}

export const USER_ID = '1234567890';

const PROBLEMS = {
  unauthorized: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
  notEnrolled: {
    client_id: '29384756',
    detail:
      'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
    registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
    title: 'Client Forbidden',
    required_enrollment: 'Appropriate Level of API Access',
    reason: 'client-not-enrolled',
    type: 'https://api.twitter.com/2/problems/client-forbidden',
  },
  readOnly: { title: 'Forbidden', status: 403, detail: 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.', type: 'https://api.twitter.com/2/problems/oauth1-permissions' },
  credits: { title: 'CreditsDepleted', detail: 'Your enrolled account [29384756] does not have any credits to fulfill this request.', type: 'https://api.twitter.com/2/problems/credits' },
  duplicate: { detail: 'You are not allowed to create a Tweet with duplicate content.', type: 'about:blank', title: 'Forbidden', status: 403 },
  tooLong: { detail: 'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.', type: 'about:blank', title: 'Forbidden', status: 403 },
  replyGone: { detail: 'You attempted to reply to a Tweet that is deleted or not visible to you.', type: 'about:blank', title: 'Forbidden', status: 403 },
  tooMany: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
};

/** RFC 3986 percent-encoding of UTF-8 bytes, written out byte by byte (independent of the action's encoder). */
function rfc3986(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes `application/x-www-form-urlencoded` or query text into raw pairs ('+' is a space). */
function formPairs(text: string): Array<[string, string]> {
  if (!text) return [];
  return text.split('&').map((pair) => {
    const [k = '', v = ''] = pair.split(/=(.*)/s);
    const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return [dec(k), dec(v)];
  });
}

/** The parameters of an `Authorization: OAuth k="v", …` header; undefined when it is not one. */
function oauthHeader(header: string | undefined): Map<string, string> | undefined {
  if (!header?.startsWith('OAuth ')) return undefined;
  const params = new Map<string, string>();
  for (const m of header.slice(6).matchAll(/([A-Za-z0-9_%.-]+)="([^"]*)"/g)) params.set(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
  return params;
}

export async function startFakeX(opts: FakeXOptions = {}): Promise<FakeX> {
  const creds = opts.credentials ?? FAKE_X_CREDENTIALS;
  const requests: RecordedXRequest[] = [];
  const tweets: FakeTweet[] = [];
  const media: FakeMedia[] = [];
  const known = new Set(opts.existingTweets ?? []);
  const usedNonces = new Set<string>();
  const faults = new Map<XRoute, XFault[]>();
  let nextId = 1n;
  const username = opts.username ?? 'widgets_dev';

  function verify(req: http.IncomingMessage, path: string, body: string): boolean {
    const params = oauthHeader(req.headers.authorization);
    if (!params) return false;
    if (params.get('oauth_consumer_key') !== creds.consumerKey || params.get('oauth_token') !== creds.token) return false;
    if (params.get('oauth_signature_method') !== 'HMAC-SHA1') return false;
    const version = params.get('oauth_version');
    if (version !== undefined && version !== '1.0') return false;
    const timestamp = Number(params.get('oauth_timestamp'));
    if (!Number.isInteger(timestamp) || Math.abs(timestamp - Date.now() / 1000) > 300) return false;
    const nonce = params.get('oauth_nonce');
    if (!nonce || usedNonces.has(`${timestamp}:${nonce}`)) return false;
    const signature = params.get('oauth_signature');
    if (!signature) return false;
    const [pathname, query = ''] = path.split(/\?(.*)/s);
    const all: Array<[string, string]> = [...params.entries()].filter(([k]) => k !== 'oauth_signature' && k !== 'realm');
    all.push(...formPairs(query));
    if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) all.push(...formPairs(body));
    const normalized = all
      .map(([k, v]) => [rfc3986(k), rfc3986(v)])
      .sort((a, b) => (a[0] === b[0] ? (a[1]! < b[1]! ? -1 : 1) : a[0]! < b[0]! ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const uri = `http://${String(req.headers.host).toLowerCase()}${pathname}`;
    const base = `${req.method!.toUpperCase()}&${rfc3986(uri)}&${rfc3986(normalized)}`;
    const expected = createHmac('sha1', `${rfc3986(creds.consumerSecret)}&${rfc3986(creds.tokenSecret)}`).update(base).digest('base64');
    if (expected !== signature) return false;
    usedNonces.add(`${timestamp}:${nonce}`);
    return true;
  }

  function rateHeaders(): Record<string, string> {
    return { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '99', 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 900) };
  }

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...rateHeaders(), ...headers });
    res.end(text);
  }

  function routeOf(method: string, pathname: string): XRoute | undefined {
    if (method === 'POST' && pathname === '/2/tweets') return 'tweets';
    if (method === 'POST' && pathname === '/2/media/upload') return 'media';
    if (method === 'POST' && pathname === '/2/media/metadata') return 'metadata';
    if (method === 'GET' && pathname === '/2/users/me') return 'users-me';
    if (method === 'GET' && /^\/2\/users\/\d+\/tweets$/.test(pathname)) return 'timeline';
    return undefined;
  }

  function takeFault(route: XRoute): XFault | undefined {
    for (const r of [route, 'any'] as const) {
      const queue = faults.get(r);
      if (queue && queue.length > 0) return queue.shift();
    }
    return undefined;
  }

  /** Creates the tweet or answers why not: [status, body]. */
  function createTweet(body: string): [number, unknown, FakeTweet?] {
    let parsed: { text?: unknown; reply?: { in_reply_to_tweet_id?: unknown }; quote_tweet_id?: unknown; media?: { media_ids?: unknown } };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return [400, { title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request', errors: [{ message: 'Request body is not valid JSON' }] }];
    }
    const text = parsed.text;
    if (typeof text !== 'string' || text.trim() === '') {
      return [400, { title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request', errors: [{ message: '$.text: is missing but it is required' }] }];
    }
    if (twitterText.parseTweet(text).weightedLength > 280) return [403, PROBLEMS.tooLong];
    const replyTo = parsed.reply?.in_reply_to_tweet_id;
    if (replyTo !== undefined && !(typeof replyTo === 'string' && (known.has(replyTo) || tweets.some((t) => t.id === replyTo)))) return [403, PROBLEMS.replyGone];
    const quote = parsed.quote_tweet_id;
    if (quote !== undefined && !(typeof quote === 'string' && (known.has(quote) || tweets.some((t) => t.id === quote)))) {
      return [400, { title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request', errors: [{ message: `The quoted Tweet ${String(quote)} does not exist` }] }];
    }
    const mediaIds = parsed.media?.media_ids;
    if (mediaIds !== undefined && !(Array.isArray(mediaIds) && mediaIds.length <= 4 && mediaIds.every((m) => typeof m === 'string' && media.some((u) => u.id === m)))) {
      return [400, { title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request', errors: [{ message: 'Your media IDs are invalid.' }] }];
    }
    if (tweets.some((t) => t.text === text)) return [403, PROBLEMS.duplicate];
    const id = String(1860000000000000000n + nextId++);
    const tweet: FakeTweet = { id, text, ...(typeof replyTo === 'string' ? { inReplyTo: replyTo } : {}), ...(typeof quote === 'string' ? { quoteOf: quote } : {}), ...(Array.isArray(mediaIds) ? { mediaIds: mediaIds as string[] } : {}) };
    tweets.push(tweet);
    return [201, { data: { id, text, edit_history_tweet_ids: [id] } }, tweet];
  }

  const invalid = (message: string) => [400, { title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request', errors: [{ message }] }] as const;

  /** A one-shot image upload: multipart `media` and `media_category`. */
  async function upload(req: http.IncomingMessage, raw: Buffer): Promise<readonly [number, unknown]> {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('multipart/form-data')) return invalid('media upload must be multipart/form-data');
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
    const file = form.get('media');
    const category = form.get('media_category');
    if (!(file instanceof Blob)) return invalid('$.media: is missing but it is required');
    if (category !== 'tweet_image') return invalid(`media_category ${String(category)} is not valid for this upload`);
    const bytes = Buffer.from(await file.arrayBuffer());
    const kind = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) ? 'png' : bytes[0] === 0xff && bytes[1] === 0xd8 ? 'jpeg' : bytes.toString('latin1', 8, 12) === 'WEBP' ? 'webp' : undefined;
    if (!kind) return invalid('media type unrecognized.');
    if (bytes.length > 5_000_000) return invalid('File size exceeds 5242880 bytes.');
    const id = String(1870000000000000000n + BigInt(media.length + 1));
    media.push({ id, type: `image/${kind}`, size: bytes.length, category });
    return [200, { data: { id, media_key: `3_${id}`, size: bytes.length, expires_after_secs: 86400, image: { image_type: `image/${kind}` } } }];
  }

  function metadata(body: string): readonly [number, unknown] {
    let parsed: { id?: unknown; metadata?: { alt_text?: { text?: unknown } } };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return invalid('Request body is not valid JSON');
    }
    const item = media.find((m) => m.id === parsed.id);
    if (!item) return invalid(`The media ${String(parsed.id)} does not exist`);
    const alt = parsed.metadata?.alt_text?.text;
    if (typeof alt !== 'string' || [...alt].length > 1000) return invalid('$.metadata.alt_text.text: must be a string of at most 1000 characters');
    item.alt = alt;
    return [200, { data: { associated_metadata: { alt_text: { text: alt } }, id: item.id } }];
  }

  const escape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
    const body = raw.toString('utf8');
    const path = req.url ?? '/';
    const pathname = path.split('?')[0]!;
    const signed = verify(req, path, body);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    requests.push({ method: req.method ?? '', path, headers, body, signed });
    const route = routeOf(req.method ?? '', pathname);
    if (!route) return send(res, 404, { title: 'Not Found Error', detail: `Sorry, that page does not exist: ${pathname}`, type: 'https://api.twitter.com/2/problems/resource-not-found' });
    const fault = takeFault(route);
    if (fault?.kind === 'reset-before-read') return void req.socket.destroy();
    if (!signed) return send(res, 401, PROBLEMS.unauthorized);
    if (opts.enrolled === false) return send(res, 403, PROBLEMS.notEnrolled);
    if (fault?.kind === 'http') return send(res, fault.status, fault.body, fault.headers);
    if (fault?.kind === 'rate-limit') {
      return send(res, 429, PROBLEMS.tooMany, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + (fault.resetInSeconds ?? 1)) });
    }
    if (opts.credits === false) return send(res, 402, PROBLEMS.credits);
    if (route === 'users-me' || route === 'timeline') {
      if (opts.canRead === false) return send(res, 403, { title: 'Forbidden', status: 403, detail: 'Your app does not have access to this endpoint with its current access level.', type: 'about:blank' });
      if (route === 'users-me') return send(res, 200, { data: { id: USER_ID, name: 'Widgets', username } });
      if (!pathname.includes(`/${USER_ID}/`)) return send(res, 200, { meta: { result_count: 0 } });
      const max = Number(new URLSearchParams(path.split('?')[1] ?? '').get('max_results') ?? 10);
      const recent = [...tweets].reverse().slice(0, max);
      return send(res, 200, recent.length ? { data: recent.map((t) => ({ id: t.id, text: escape(t.text), edit_history_tweet_ids: [t.id] })), meta: { result_count: recent.length } } : { meta: { result_count: 0 } });
    }
    if (opts.permissions === 'read') return send(res, 403, PROBLEMS.readOnly);
    if (route === 'media') {
      const [status, answer] = await upload(req, raw);
      return send(res, status, answer);
    }
    if (route === 'metadata') {
      const [status, answer] = metadata(body);
      return send(res, status, answer);
    }
    const [status, answer, created] = createTweet(body);
    if (created && fault?.kind === 'drop-after-commit') return void req.socket.destroy();
    if (created && fault?.kind === 'error-after-commit') return send(res, fault.status ?? 503, { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: fault.status ?? 503 });
    return send(res, status, answer);
  }

  const server = http.createServer((req, res) => {
    readBody(req).then(
      (raw) => void handle(req, res, raw),
      () => undefined, // the client went away before its request was whole
    );
  });
  const loopback = await startOnLoopback(server);
  return {
    url: loopback.url,
    requests,
    tweets,
    media,
    inject(route, ...list) {
      faults.set(route, [...(faults.get(route) ?? []), ...list]);
    },
    tweetRequests: () => requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets'),
    close: () => loopback.close(),
  };
}
