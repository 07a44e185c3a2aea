/**
 * The letmepost API as the real server speaks it (apps/api of the open-source monorepo,
 * measured on loopback; the README's developer section says how to run it): request bodies,
 * answers, the error envelope, and the post rows `GET /v1/posts` lists. Pure: no I/O.
 *
 * What the real server does that its docs do not say: it accepts only the `targets[]` shape;
 * `options` is a union discriminated on `platform`; a 200 can carry failed results; the batch
 * `id` is stored nowhere (`results[i].postId` is the post); it has no in-flight claim on an
 * Idempotency-Key (a request is stored only once its handler finished).
 */
import { compact, isObject, str } from '../../io/json.js';
import { clip, redact } from '../../secrets.js';

/** Error codes of the letmepost API. */
export const Code = {
  validationFailed: 'validation_failed',
  preflightFailed: 'preflight_failed',
  unauthenticated: 'unauthenticated',
  unauthorized: 'unauthorized',
  notFound: 'not_found',
  platformAuthFailed: 'platform_auth_failed',
  platformRejected: 'platform_rejected',
  platformNotEnabled: 'platform_not_enabled',
  platformUnavailable: 'platform_unavailable',
  idempotencyConflict: 'idempotency_conflict',
  rateLimited: 'rate_limited',
  quotaExceeded: 'quota_exceeded',
  internalError: 'internal_error',
} as const;

export const Rule = {
  inProgress: 'idempotency_key.in_progress',
  bodyMismatch: 'idempotency_key.body_mismatch',
} as const;

/** The input to look at, per error code. */
const INPUT_OF_CODE: Record<string, string> = {
  [Code.unauthenticated]: 'letmepost-token',
  [Code.unauthorized]: 'letmepost-token',
  [Code.notFound]: 'account-id',
};

/** What to tell the user to do, per error code, when the server gives no remediation. */
const HINTS: Record<string, string> = {
  [Code.unauthenticated]: "check the 'letmepost-token' secret: it is missing, revoked or mistyped",
  [Code.unauthorized]: "the 'letmepost-token' key lacks the posts:write scope; mint a key with it in the letmepost dashboard",
  [Code.notFound]: "check 'account-id': no connected account with this id is visible to this API key (GET /v1/accounts lists them)",
  [Code.platformAuthFailed]: 'reconnect the account in the letmepost dashboard, then re-run the job',
  [Code.platformNotEnabled]: 'this platform is not enabled on this letmepost instance',
  [Code.quotaExceeded]: "the plan's monthly post quota is used up; upgrade or wait for the reset, then re-run the job",
};

export interface ErrorEnvelope {
  code?: string;
  message?: string;
  rule?: string;
  remediation?: string;
  requestId?: string;
  platformResponse?: unknown;
}

function envelopeOf(e: Record<string, unknown>): ErrorEnvelope {
  const out: ErrorEnvelope = {};
  for (const name of ['code', 'message', 'rule', 'remediation', 'requestId'] as const) {
    const value = str(e[name]);
    if (value !== undefined) out[name] = value;
  }
  if (e.platformResponse !== undefined && e.platformResponse !== null) out.platformResponse = e.platformResponse;
  return out;
}

export function parseErrorEnvelope(body: Buffer): ErrorEnvelope | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (isObject(parsed) && isObject(parsed.error)) return envelopeOf(parsed.error);
  } catch {
    // not JSON: described from the status line instead
  }
  return undefined;
}

/** The platform's own words, shortened: enough to act on, never a flood. */
export function platformSaid(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (!text || text === '{}' || text === '[]') return undefined;
  return clip(text, 300);
}

/** One line for the user: message, code and rule, the fix, the platform's words, the request id. Secrets scrubbed. */
export function describeApiError(httpStatus: number, envelope: ErrorEnvelope | undefined, requestId: string | null): string {
  const parts = [`letmepost answered HTTP ${httpStatus}`];
  if (envelope?.code) parts[0] += ` ${envelope.code}${envelope.rule ? ` (rule ${envelope.rule})` : ''}`;
  if (envelope?.message) parts.push(envelope.message.replace(/\.$/, ''));
  const fix = envelope?.remediation ?? (envelope?.code ? HINTS[envelope.code] : undefined);
  if (fix) parts.push(`Fix: ${fix.replace(/\.$/, '')}`);
  const input = envelope?.code ? INPUT_OF_CODE[envelope.code] : undefined;
  if (input && envelope?.remediation) parts.push(`Check the input '${input}'`);
  const resetAt = isObject(envelope?.platformResponse) ? str(envelope.platformResponse.resetAt) : undefined;
  if (resetAt) parts.push(`Quota resets at ${resetAt}`);
  const id = envelope?.requestId ?? requestId;
  if (id) parts.push(`Request id: ${id}`);
  return redact(`${parts.join('. ')}.`);
}

// ───────────────────────────── answers ─────────────────────────────

/** One target's result, from either answer shape (the batch `results[i]`, or the spec's single post). */
export interface PostOutcome {
  /** The post's id, which `GET /v1/posts/{id}` knows (`results[i].postId`). */
  postId?: string;
  /** published | queued | failed | rejected | … ; `unknown` when the answer says nothing usable. */
  status: string;
  uri?: string;
  cid?: string;
  scheduledAt?: string;
  firstCommentUri?: string;
  warnings: string[];
  error?: ErrorEnvelope;
  replayed: boolean;
  /** The server's id for the request (x-request-id), to quote when something is off. */
  requestId?: string;
}

function warningsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((w) => (isObject(w) ? [str(w.code), str(w.message)].filter(Boolean).join(': ') : String(w))).filter(Boolean);
}

function errorOf(value: unknown): ErrorEnvelope | undefined {
  if (isObject(value)) return envelopeOf(value);
  const message = str(value);
  return message !== undefined ? { message } : undefined;
}

function outcome(fields: Omit<PostOutcome, 'warnings' | 'replayed'> & { warnings?: unknown }, replayed: boolean): PostOutcome {
  const out: PostOutcome = { status: fields.status, warnings: warningsOf(fields.warnings), replayed };
  for (const name of ['postId', 'uri', 'cid', 'scheduledAt', 'firstCommentUri'] as const) {
    if (fields[name] !== undefined) out[name] = fields[name];
  }
  if (fields.error !== undefined) out.error = fields.error;
  return out;
}

/** Reads an answer to `POST /v1/posts` with one target: the batch `results[]`, or the spec's single post. */
export function readOutcome(parsed: unknown, replayed: boolean): PostOutcome {
  if (!isObject(parsed)) return { status: 'unknown', warnings: [], replayed };
  if (Array.isArray(parsed.results)) {
    const first = parsed.results.find(isObject);
    if (!first) return outcome({ status: str(parsed.status) ?? 'unknown' }, replayed);
    return outcome(
      {
        postId: str(first.postId),
        status: str(first.status) ?? str(parsed.status) ?? 'unknown',
        uri: str(first.uri),
        cid: str(first.cid),
        scheduledAt: str(parsed.scheduledAt),
        firstCommentUri: str(first.firstCommentUri),
        warnings: first.warnings,
        error: errorOf(first.error),
      },
      replayed,
    );
  }
  return outcome(
    {
      postId: str(parsed.id),
      status: str(parsed.status) ?? 'unknown',
      uri: str(parsed.uri),
      cid: str(parsed.cid),
      scheduledAt: str(parsed.scheduledAt),
      firstCommentUri: str(parsed.firstCommentUri),
      warnings: parsed.warnings,
      error: errorOf(parsed.error),
    },
    replayed,
  );
}

/** A post row as `GET /v1/posts` lists it. */
export interface PostRow {
  id: string;
  accountId?: string;
  platform?: string;
  status: string;
  text?: string;
  scheduledAt?: string;
  platformUri?: string;
  platformCid?: string;
  error?: ErrorEnvelope;
  /** Server clock, epoch ms. */
  createdAt: number;
}

export function readPostRows(parsed: unknown): { rows: PostRow[]; nextCursor?: string } {
  if (!isObject(parsed) || !Array.isArray(parsed.data)) return { rows: [] };
  const rows: PostRow[] = [];
  for (const item of parsed.data) {
    if (!isObject(item)) continue;
    const id = str(item.id);
    const status = str(item.status);
    const createdAt = Date.parse(str(item.createdAt) ?? '');
    if (id === undefined || status === undefined || Number.isNaN(createdAt)) continue;
    const row: PostRow = { id, status, createdAt };
    for (const name of ['accountId', 'platform', 'text', 'scheduledAt', 'platformUri', 'platformCid'] as const) {
      const value = str(item[name]);
      if (value !== undefined) row[name] = value;
    }
    const error = errorOf(item.error);
    if (error !== undefined) row.error = error;
    rows.push(row);
  }
  const nextCursor = str(parsed.nextCursor);
  return nextCursor !== undefined ? { rows, nextCursor } : { rows };
}

// ───────────────────────────── requests ─────────────────────────────

export interface MediaItem {
  kind: 'image' | 'video';
  altText?: string;
  mediaId?: string;
  url?: string;
  bytesBase64?: string;
}

/** Per-platform options as the server's discriminated union wants them: `{platform, …flat fields}`. */
export type TargetOptions = { platform: string } & Record<string, string | boolean>;

export interface PostRequest {
  accountId: string;
  platform: string;
  text: string;
  media: MediaItem[];
  firstComment?: string;
  scheduledAt?: string;
  options?: TargetOptions;
}

/**
 * The body the real server accepts: one target per request, so each target keeps its own
 * key and its own recovery. Fields in a fixed order: the same post is the same bytes.
 */
export function targetsBody(req: PostRequest): string {
  return JSON.stringify(
    compact({
      targets: [compact({ accountId: req.accountId, platform: req.platform, firstComment: req.firstComment !== undefined ? { text: req.firstComment } : undefined, options: req.options })],
      text: req.text,
      media: req.media.length ? req.media : undefined,
      scheduledAt: req.scheduledAt,
    }),
  );
}

/** The documented single-account body, for a server that refuses `targets` (none seen so far). */
export function accountBody(req: PostRequest): string {
  const { platform: _, ...flat } = req.options ?? { platform: '' };
  return JSON.stringify(
    compact({
      account: { platform: req.platform, id: req.accountId },
      text: req.text,
      media: req.media.length ? req.media : undefined,
      firstComment: req.firstComment !== undefined ? { text: req.firstComment } : undefined,
      scheduledAt: req.scheduledAt,
      ...(req.options && Object.keys(flat).length > 0 ? { [req.options.platform]: flat } : {}),
    }),
  );
}

/** A 400 that says the server wants the documented `account` shape rather than `targets`. */
export function wantsAccountShape(status: number, envelope: ErrorEnvelope | undefined): boolean {
  if (status !== 400 || envelope?.code !== Code.validationFailed) return false;
  const rule = envelope.rule ?? '';
  return /^account(\.|$)/.test(rule) || (!/targets/.test(rule) && /\baccount\b/i.test(envelope.message ?? '') && /required/i.test(envelope.message ?? ''));
}
