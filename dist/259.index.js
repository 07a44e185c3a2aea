export const id = 259;
export const ids = [259];
export const modules = {

/***/ 5259:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  LetmepostPublisher: () => (/* binding */ LetmepostPublisher)
});

// UNUSED EXPORTS: INLINE_IMAGE_MAX_BYTES, handlerBoundMs, sentInline, serverOptions

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./.build/errors.js
var errors = __webpack_require__(9243);
// EXTERNAL MODULE: ./.build/io/http.js
var http = __webpack_require__(3727);
;// CONCATENATED MODULE: ./.build/io/json.js
/** Reading untyped JSON from servers, and writing request bodies whose bytes depend only on what is set. */
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
/** A non-empty string, else undefined. */
function str(value) {
    return typeof value === 'string' && value.length > 0 ? value : undefined;
}
/** A finite positive number, else undefined. */
function num(value) {
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
/** Parsed JSON, or undefined when the bytes are not JSON. */
function parseJson(body) {
    try {
        return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    }
    catch {
        return undefined;
    }
}
/** Drops undefined fields so the serialised bytes depend only on what is set. */
function compact(obj) {
    return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

// EXTERNAL MODULE: ./.build/publishers/links.js
var links = __webpack_require__(4235);
// EXTERNAL MODULE: ./.build/io/retry.js
var retry = __webpack_require__(8477);
// EXTERNAL MODULE: ./.build/secrets.js
var secrets = __webpack_require__(4195);
;// CONCATENATED MODULE: ./.build/publishers/letmepost/api.js
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


/** Error codes of the letmepost API. */
const Code = {
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
};
const Rule = {
    inProgress: 'idempotency_key.in_progress',
    bodyMismatch: 'idempotency_key.body_mismatch',
};
/** The input to look at, per error code. */
const INPUT_OF_CODE = {
    [Code.unauthenticated]: 'letmepost-token',
    [Code.unauthorized]: 'letmepost-token',
    [Code.notFound]: 'account-id',
};
/** What to tell the user to do, per error code, when the server gives no remediation. */
const HINTS = {
    [Code.unauthenticated]: "check the 'letmepost-token' secret: it is missing, revoked or mistyped",
    [Code.unauthorized]: "the 'letmepost-token' key lacks the posts:write scope; mint a key with it in the letmepost dashboard",
    [Code.notFound]: "check 'account-id': no connected account with this id is visible to this API key (GET /v1/accounts lists them)",
    [Code.platformAuthFailed]: 'reconnect the account in the letmepost dashboard, then re-run the job',
    [Code.platformNotEnabled]: 'this platform is not enabled on this letmepost instance',
    [Code.quotaExceeded]: "the plan's monthly post quota is used up; upgrade or wait for the reset, then re-run the job",
};
function envelopeOf(e) {
    const out = {};
    for (const name of ['code', 'message', 'rule', 'remediation', 'requestId']) {
        const value = str(e[name]);
        if (value !== undefined)
            out[name] = value;
    }
    if (e.platformResponse !== undefined && e.platformResponse !== null)
        out.platformResponse = e.platformResponse;
    return out;
}
function parseErrorEnvelope(body) {
    try {
        const parsed = JSON.parse(body.toString('utf8'));
        if (isObject(parsed) && isObject(parsed.error))
            return envelopeOf(parsed.error);
    }
    catch {
        // not JSON: described from the status line instead
    }
    return undefined;
}
/** The platform's own words, shortened: enough to act on, never a flood. */
function platformSaid(value) {
    if (value === undefined)
        return undefined;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (!text || text === '{}' || text === '[]')
        return undefined;
    return (0,secrets/* clip */.$Q)(text, 300);
}
/** One line for the user: message, code and rule, the fix, the platform's words, the request id. Secrets scrubbed. */
function describeApiError(httpStatus, envelope, requestId) {
    const parts = [`letmepost answered HTTP ${httpStatus}`];
    if (envelope?.code)
        parts[0] += ` ${envelope.code}${envelope.rule ? ` (rule ${envelope.rule})` : ''}`;
    if (envelope?.message)
        parts.push(envelope.message.replace(/\.$/, ''));
    const fix = envelope?.remediation ?? (envelope?.code ? HINTS[envelope.code] : undefined);
    if (fix)
        parts.push(`Fix: ${fix.replace(/\.$/, '')}`);
    const input = envelope?.code ? INPUT_OF_CODE[envelope.code] : undefined;
    if (input && envelope?.remediation)
        parts.push(`Check the input '${input}'`);
    const resetAt = isObject(envelope?.platformResponse) ? str(envelope.platformResponse.resetAt) : undefined;
    if (resetAt)
        parts.push(`Quota resets at ${resetAt}`);
    const id = envelope?.requestId ?? requestId;
    if (id)
        parts.push(`Request id: ${id}`);
    return (0,secrets/* redact */.E$)(`${parts.join('. ')}.`);
}
function warningsOf(value) {
    if (!Array.isArray(value))
        return [];
    return value.map((w) => (isObject(w) ? [str(w.code), str(w.message)].filter(Boolean).join(': ') : String(w))).filter(Boolean);
}
function errorOf(value) {
    if (isObject(value))
        return envelopeOf(value);
    const message = str(value);
    return message !== undefined ? { message } : undefined;
}
function outcome(fields, replayed) {
    const out = { status: fields.status, warnings: warningsOf(fields.warnings), replayed };
    for (const name of ['postId', 'uri', 'cid', 'scheduledAt', 'firstCommentUri']) {
        if (fields[name] !== undefined)
            out[name] = fields[name];
    }
    if (fields.error !== undefined)
        out.error = fields.error;
    return out;
}
/** Reads an answer to `POST /v1/posts` with one target: the batch `results[]`, or the spec's single post. */
function readOutcome(parsed, replayed) {
    if (!isObject(parsed))
        return { status: 'unknown', warnings: [], replayed };
    if (Array.isArray(parsed.results)) {
        const first = parsed.results.find(isObject);
        if (!first)
            return outcome({ status: str(parsed.status) ?? 'unknown' }, replayed);
        return outcome({
            postId: str(first.postId),
            status: str(first.status) ?? str(parsed.status) ?? 'unknown',
            uri: str(first.uri),
            cid: str(first.cid),
            scheduledAt: str(parsed.scheduledAt),
            firstCommentUri: str(first.firstCommentUri),
            warnings: first.warnings,
            error: errorOf(first.error),
        }, replayed);
    }
    return outcome({
        postId: str(parsed.id),
        status: str(parsed.status) ?? 'unknown',
        uri: str(parsed.uri),
        cid: str(parsed.cid),
        scheduledAt: str(parsed.scheduledAt),
        firstCommentUri: str(parsed.firstCommentUri),
        warnings: parsed.warnings,
        error: errorOf(parsed.error),
    }, replayed);
}
function readPostRows(parsed) {
    if (!isObject(parsed) || !Array.isArray(parsed.data))
        return { rows: [] };
    const rows = [];
    for (const item of parsed.data) {
        if (!isObject(item))
            continue;
        const id = str(item.id);
        const status = str(item.status);
        const createdAt = Date.parse(str(item.createdAt) ?? '');
        if (id === undefined || status === undefined || Number.isNaN(createdAt))
            continue;
        const row = { id, status, createdAt };
        for (const name of ['accountId', 'platform', 'text', 'scheduledAt', 'platformUri', 'platformCid']) {
            const value = str(item[name]);
            if (value !== undefined)
                row[name] = value;
        }
        const error = errorOf(item.error);
        if (error !== undefined)
            row.error = error;
        rows.push(row);
    }
    const nextCursor = str(parsed.nextCursor);
    return nextCursor !== undefined ? { rows, nextCursor } : { rows };
}
/**
 * The body the real server accepts: one target per request, so each target keeps its own
 * key and its own recovery. Fields in a fixed order: the same post is the same bytes.
 */
function targetsBody(req) {
    return JSON.stringify(compact({
        targets: [compact({ accountId: req.accountId, platform: req.platform, firstComment: req.firstComment !== undefined ? { text: req.firstComment } : undefined, options: req.options })],
        text: req.text,
        media: req.media.length ? req.media : undefined,
        scheduledAt: req.scheduledAt,
    }));
}
/** The documented single-account body, for a server that refuses `targets` (none seen so far). */
function accountBody(req) {
    const { platform: _, ...flat } = req.options ?? { platform: '' };
    return JSON.stringify(compact({
        account: { platform: req.platform, id: req.accountId },
        text: req.text,
        media: req.media.length ? req.media : undefined,
        firstComment: req.firstComment !== undefined ? { text: req.firstComment } : undefined,
        scheduledAt: req.scheduledAt,
        ...(req.options && Object.keys(flat).length > 0 ? { [req.options.platform]: flat } : {}),
    }));
}
/** A 400 that says the server wants the documented `account` shape rather than `targets`. */
function wantsAccountShape(status, envelope) {
    if (status !== 400 || envelope?.code !== Code.validationFailed)
        return false;
    const rule = envelope.rule ?? '';
    return /^account(\.|$)/.test(rule) || (!/targets/.test(rule) && /\baccount\b/i.test(envelope.message ?? '') && /required/i.test(envelope.message ?? ''));
}

;// CONCATENATED MODULE: ./.build/publishers/letmepost/publisher.js
/**
 * The letmepost API publisher (`POST /v1/posts`), as the real server behaves (see
 * letmepost-api.ts): one target per request in the `targets[]` shape, the same bytes under
 * one Idempotency-Key on every retry, success read from each result's `status` rather than
 * the HTTP code, replays detected, recovery from a replayed transient failure.
 *
 * Never two requests with one key in flight. The server stores an answer only once its
 * handler finished and has no in-flight claim, so a retry sent while the first request still
 * runs posts a second time. A request that was sent and got no usable answer (a timeout, a
 * dropped connection, a gateway's 5xx) is therefore never resent blindly: the publisher looks
 * for the post row the server inserts before it calls the platform (`GET /v1/posts`) and waits
 * until that row leaves `publishing`; the row then is the answer. Only when no row appears —
 * the request never reached the handler — is it sent again. The publish request itself waits
 * as long as the server's own platform calls can take.
 */










/**
 * The server's own time limits (apps/api `platformFetch`: 30 s per platform call, no retries,
 * no limit on the handler as a whole): a Bluesky text post is a login and a write, a first
 * comment one more write, every image one more upload (one after another), and a video is
 * uploaded and processed for up to ~14 minutes. Plus a margin for the database.
 */
const PLATFORM_CALL_MS = 30_000;
const VIDEO_HANDLING_MS = 14 * 60_000;
const HANDLER_MARGIN_MS = 15_000;
/** How long the row of a request that reached the server may take to appear (it is inserted in milliseconds). */
const ROW_APPEARS_MS = 6_000;
/** Rows are listed from a little before the request was sent, on the server's clock. */
const LOOKBACK_MS = 10 * 60_000;
/** Images up to this size travel inside the request (`bytesBase64`): the largest any letmepost platform takes is 8 MB. */
const INLINE_IMAGE_MAX_BYTES = 8 * 1024 * 1024;
/** Platforms whose letmepost publisher hands media to the platform by URL: inline bytes are refused there. */
const URL_MEDIA_PLATFORMS = new Set(['facebook', 'instagram', 'pinterest', 'threads']);
/** Whether a local file is sent inline (`bytesBase64`), so a re-run sends the very same bytes. */
function sentInline(m, platform) {
    return m.kind === 'image' && !URL_MEDIA_PLATFORMS.has(platform) && m.size !== undefined && m.size <= INLINE_IMAGE_MAX_BYTES;
}
/** How long the server may take for this target, at most, when every platform call runs to its limit. */
function handlerBoundMs(target) {
    const images = target.media.filter((m) => m.kind === 'image').length;
    const video = target.media.some((m) => m.kind === 'video');
    return 2 * PLATFORM_CALL_MS + (target.firstComment !== undefined ? PLATFORM_CALL_MS : 0) + images * PLATFORM_CALL_MS + (video ? VIDEO_HANDLING_MS : 0) + HANDLER_MARGIN_MS;
}
/** The per-platform `options` of a target, in the server's discriminated-union shape; undefined when there are none. */
function serverOptions(platform, post) {
    const fields = {};
    switch (platform) {
        case 'twitter':
            Object.assign(fields, { replyToTweetId: post.twitter?.replyToTweetId, quoteTweetId: post.twitter?.quoteTweetId });
            break;
        case 'pinterest':
            Object.assign(fields, { boardId: post.pinterest?.boardId, destinationUrl: post.pinterest?.destinationUrl, title: post.pinterest?.title, coverImageUrl: post.pinterest?.coverImageUrl });
            break;
        case 'threads':
            fields.replyToId = post.threads?.replyToId;
            break;
        case 'tiktok':
            Object.assign(fields, post.tiktok ?? {});
            break;
        case 'bluesky':
            Object.assign(fields, {
                replyToUri: post.bluesky?.replyTo?.uri,
                replyToCid: post.bluesky?.replyTo?.cid,
                replyRootUri: post.bluesky?.replyRoot?.uri,
                replyRootCid: post.bluesky?.replyRoot?.cid,
            });
            break;
        default:
            break;
    }
    const set = Object.entries(fields).filter((entry) => entry[1] !== undefined);
    return set.length > 0 ? { platform, ...Object.fromEntries(set) } : undefined;
}
/** A request that was sent and got no usable answer: it may still be running on the server. */
class NoAnswer {
    cause;
    sentAt;
    answered;
    constructor(cause, sentAt, 
    /** An HTTP answer came (a 5xx): whatever the server did for it is done, or visible, by now. */
    answered) {
        this.cause = cause;
        this.sentAt = sentAt;
        this.answered = answered;
    }
}
class LetmepostPublisher {
    config;
    kind = 'letmepost';
    /** Set once the server has asked for the documented `account` shape; kept for the run. */
    accountShape = false;
    /** Each local file is uploaded once per run, however many targets use it. */
    uploads = new Map();
    policy;
    wait;
    constructor(config) {
        this.config = config;
        this.policy = { ...retry/* DEFAULT_RETRY */.vI, ...config.retry, deadline: config.deadline };
        this.wait = config.wait ?? retry/* sleep */.yy;
    }
    get base() {
        return this.config.apiUrl.replace(/\/+$/, '');
    }
    request(target, media) {
        const req = { accountId: target.account, platform: target.platform, text: target.texts[0] ?? '', media };
        if (target.firstComment !== undefined)
            req.firstComment = target.firstComment;
        if (target.scheduledAt !== undefined)
            req.scheduledAt = target.scheduledAt;
        const options = serverOptions(target.platform, target.options);
        if (options !== undefined)
            req.options = options;
        return req;
    }
    async describe(target) {
        const media = target.media.map((m) => !m.path
            ? this.mediaItem(m, {})
            : sentInline(m, target.platform)
                ? this.mediaItem(m, { bytesBase64: `<the ${m.size ?? '?'} bytes of ${m.displayPath ?? m.path}, base64>` })
                : this.mediaItem(m, { mediaId: `<uploaded from ${m.displayPath ?? m.path} by POST /v1/media>` }));
        return {
            method: 'POST',
            url: `${this.base}/v1/posts`,
            headers: { Authorization: 'Bearer ***', 'Content-Type': 'application/json', 'Idempotency-Key': target.idempotencyKey },
            body: JSON.parse(targetsBody(this.request(target, media))),
        };
    }
    async publish(target) {
        // Images travel inside the request: the same bytes every run, so a re-run's request is
        // byte-identical and replays. Video (and images for platforms that take media by URL)
        // are uploaded first, which gives a new media id each time: those re-runs rely on the ledger.
        const media = await Promise.all(target.media.map(async (m) => !m.path
            ? this.mediaItem(m, {})
            : sentInline(m, target.platform)
                ? this.mediaItem(m, { bytesBase64: (await (0,promises_.readFile)(m.path)).toString('base64') })
                : this.mediaItem(m, { mediaId: await this.upload(m) })));
        const uploaded = media.some((m) => m.mediaId !== undefined);
        const req = this.request(target, media);
        let key = target.idempotencyKey;
        for (let recovery = 0;; recovery++) {
            const sent = await this.send(target, req, key, uploaded);
            if (sent.outcome.status === 'failed' && sent.outcome.replayed && recovery < target.keys.recoveries.length) {
                // The server replays a stored transient failure forever; a re-run recovers by moving
                // to a key derived from the original one, so the next re-run finds this same key.
                const next = target.keys.recoveries[recovery];
                this.config.log.info(`${target.label} → ${target.platform}: an earlier run failed transiently under key ${key}; retrying under ${next}`);
                key = next;
                continue;
            }
            return [this.result(target, sent.key, sent.outcome)];
        }
    }
    result(target, key, outcome) {
        const status = outcomeStatus(outcome.status);
        const postId = outcome.postId ? ` (post id ${outcome.postId})` : '';
        if (status === undefined) {
            throw new errors/* PublishError */.S1((0,secrets/* redact */.E$)(`letmepost answered with an unknown post status '${outcome.status}'${postId} under key ${key}; the post may have been published: check it in letmepost`), {
                outcomeUnknown: true,
            });
        }
        if (status === 'failed' || status === 'rejected') {
            const e = outcome.error;
            const said = e?.platformResponse !== undefined ? platformSaid(e.platformResponse) : undefined;
            const what = e ? [e.code && `${e.code}${e.rule ? ` (rule ${e.rule})` : ''}`, e.message?.replace(/\.$/, ''), e.remediation && `Fix: ${e.remediation.replace(/\.$/, '')}`, said && `the platform said: ${said}`].filter(Boolean).join(': ') : '';
            const reason = what || (status === 'failed' ? 'the platform failed transiently' : 'the platform refused the post');
            const next = status === 'failed' ? ' This is transient: re-running the job retries it safely (no double post).' : '';
            throw new errors/* PublishError */.S1((0,secrets/* redact */.E$)(`letmepost reported status '${outcome.status}' for ${target.platform}: ${reason}.${next}${postId ? ` Post id:${postId.slice(9, -1)},` : ''} key ${key}.`), {
                code: status,
            });
        }
        if (outcome.status === 'validated' || outcome.status === 'publishing') {
            outcome.warnings.push(`letmepost reports the post as '${outcome.status}': accepted and being published`);
        }
        const result = { label: target.label, publisher: this.kind, platform: target.platform, status, idempotencyKey: key, replayed: outcome.replayed, warnings: outcome.warnings };
        if (outcome.uri)
            result.uri = outcome.uri;
        const url = (0,links/* webUrl */.qP)(target.platform, outcome.uri);
        if (url)
            result.url = url;
        if (outcome.cid)
            result.cid = outcome.cid;
        if (outcome.postId)
            result.id = outcome.postId;
        const scheduledAt = outcome.scheduledAt ?? (status === 'queued' ? target.scheduledAt : undefined);
        if (scheduledAt)
            result.scheduledAt = scheduledAt;
        if (status === 'queued' && serverOptions(target.platform, target.options) !== undefined) {
            // The open-source server (2026-06) drops per-target options when a queued post is published.
            result.warnings.push(`the ${target.platform} options of this post are sent with it, but letmepost may not keep them for a scheduled post (its open-source server does not); post it unscheduled if they matter`);
        }
        if (!outcome.postId && !outcome.uri && (status === 'published' || status === 'queued')) {
            result.warnings.push(`letmepost answered '${outcome.status}' without a post id or uri, so this post cannot be linked; check it in letmepost${outcome.requestId ? ` (request id ${outcome.requestId})` : ''}`);
        }
        return result;
    }
    mediaItem(m, source) {
        const item = { kind: m.kind };
        if (m.alt !== undefined)
            item.altText = m.alt;
        if (source.mediaId !== undefined)
            item.mediaId = source.mediaId;
        else if (source.bytesBase64 !== undefined)
            item.bytesBase64 = source.bytesBase64;
        else if (m.url !== undefined)
            item.url = m.url;
        return item;
    }
    /** Sends the post until it has an answer, in the shape the server accepts. Returns the outcome and the key it went under. */
    async send(target, req, key, uploaded) {
        const what = `${target.label} → ${target.platform}`;
        if (!this.accountShape) {
            try {
                return { outcome: await this.post(what, target, key, targetsBody(req), uploaded), key };
            }
            catch (error) {
                if (!(error instanceof AccountShapeWanted))
                    throw error;
                this.accountShape = true;
                this.config.log.info('letmepost asks for the single-account request shape; using it for the rest of this run');
            }
        }
        // The first key holds the stored 400: the other shape goes under a key derived from it.
        const derived = target.keys.alternate[key];
        return { outcome: await this.post(what, target, derived, accountBody(req), uploaded), key: derived };
    }
    /** The time limit of the publish request: long enough for the server's own platform calls, never past the deadline. */
    publishTimeout(target) {
        return Math.min(Math.max(this.config.requestTimeoutMs, handlerBoundMs(target)), Math.max(1000, this.config.deadline - Date.now()));
    }
    /**
     * One logical send: retries what is safe (nothing ran on the server: it refused to connect,
     * rate-limited us, or said another request holds the key); after a request that may be
     * running, asks the server's post rows instead of sending again.
     */
    async post(what, target, key, body, uploaded) {
        const bytes = Buffer.from(body, 'utf8');
        this.config.log.info(`${what}: POST /v1/posts with Idempotency-Key ${key}`);
        // A garbled answer means the server finished and stored it: the replay that follows answers
        // this run's own request, so it is not "replayed" (an earlier run's post).
        let ownAnswerLost = false;
        const attempt = async () => {
            try {
                return await this.attempt(target, key, bytes, uploaded);
            }
            catch (error) {
                if (error instanceof errors/* PublishError */.S1 && error.code === 'malformed_response')
                    ownAnswerLost = true;
                throw error;
            }
        };
        for (let sends = 1;; sends++) {
            let answered;
            try {
                answered = await (0,retry/* withRetries */.LH)(what, attempt, this.policy, this.config.log, this.wait);
            }
            catch (error) {
                if (error instanceof NoAnswerError)
                    answered = error.noAnswer;
                else
                    throw error;
            }
            if (!(answered instanceof NoAnswer))
                return ownAnswerLost ? { ...answered, replayed: false } : answered;
            const row = await this.confirm(what, target, answered);
            if (row !== undefined)
                return rowOutcome(row);
            if (sends >= this.policy.maxAttempts || Date.now() + 1000 >= this.config.deadline) {
                throw new errors/* PublishError */.S1(`${answered.cause.message}; letmepost shows no post for it, so it most likely never reached letmepost (gave up after ${sends} attempt${sends > 1 ? 's' : ''}). Re-running the job is safe: it sends the same request under the same key`, {
                    code: 'failed',
                    cause: answered.cause,
                });
            }
            this.config.log.info(`${what}: letmepost has no post row for this request, so it never reached the handler; sending it again under the same key`);
        }
    }
    /** One request and its answer. A request that may be running on the server ends the retries as NoAnswerError. */
    async attempt(target, key, bytes, uploaded) {
        const sentAt = Date.now();
        let response;
        try {
            response = await (0,http/* httpRequest */.aj)('POST /v1/posts', `${this.base}/v1/posts`, { method: 'POST', headers: { Authorization: `Bearer ${this.config.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: bytes }, this.publishTimeout(target), this.config.fetch);
        }
        catch (error) {
            if (error instanceof errors/* PublishError */.S1 && error.outcomeUnknown)
                throw new NoAnswerError(new NoAnswer(error, sentAt, false));
            throw error;
        }
        return this.interpret(response, uploaded, sentAt);
    }
    /** Reads one HTTP answer: an outcome, or an error that the retry policy classifies. */
    interpret(response, uploaded, sentAt) {
        const requestId = response.headers.get('x-request-id');
        const replayed = response.headers.get('idempotency-replayed')?.toLowerCase() === 'true';
        if (response.status >= 200 && response.status < 300) {
            const parsed = parseJson(response.body);
            // A garbled 2xx: the handler finished and its answer is stored, so asking again replays it.
            if (parsed === undefined) {
                throw new errors/* PublishError */.S1(`letmepost answered HTTP ${response.status} with a body that is not JSON${requestId ? ` (request id ${requestId})` : ''}`, {
                    retryable: true,
                    outcomeUnknown: true,
                    code: 'malformed_response',
                });
            }
            const outcome = readOutcome(parsed, replayed);
            if (requestId)
                outcome.requestId = requestId;
            return outcome;
        }
        const envelope = parseErrorEnvelope(response.body);
        const message = describeApiError(response.status, envelope, requestId);
        const code = envelope?.code;
        if (response.status === 409 && code === Code.idempotencyConflict && envelope?.rule === Rule.inProgress) {
            // Another request holds the key right now; its answer will be replayed to us once it is done.
            throw new errors/* PublishError */.S1(message, { retryable: true, code, retryAfterMs: 2000 });
        }
        if (response.status === 409 && envelope?.rule === Rule.bodyMismatch) {
            // Same identity, other content: the earlier request stands. letmepost does not say what
            // became of it (the ledger, consulted first, had no record), so the outcome is unknown.
            const why = uploaded ? 'its media were uploaded again in this run (new media ids), so the request differs' : 'this run sends other content (text, media or options)';
            throw new errors/* PublishError */.S1(`${message} An earlier run already sent this post under this key and ${why}; letmepost keeps the earlier request and refuses to replace it, so nothing new was posted. letmepost does not say what became of the earlier request and the ledger has no record of it: check the account in letmepost (the durable ledger, with 'permissions: statuses: write', remembers it next time). To post this content as a separate post on purpose, set a new 'idempotency-key'`, { code: Rule.bodyMismatch, outcomeUnknown: true });
        }
        if (wantsAccountShape(response.status, envelope))
            throw new AccountShapeWanted(message);
        if (response.status === 400 && envelope?.rule?.startsWith('scheduledAt'))
            throw new errors/* PublishError */.S1(message, { code: errors/* SCHEDULE_REFUSED */.r2 });
        if (response.status === 429 && code !== Code.quotaExceeded) {
            // The limiter answers before the handler: nothing ran, asking again is safe.
            throw new errors/* PublishError */.S1(message, { retryable: true, code: code ?? Code.rateLimited, retryAfterMs: (0,http/* retryAfterMs */.Vs)(response.headers.get('retry-after')) ?? 5000 });
        }
        if (response.status >= 500) {
            // A 5xx is never stored, and a gateway's may come after the handler ran: confirm first.
            throw new NoAnswerError(new NoAnswer(new errors/* PublishError */.S1(message, { retryable: true, outcomeUnknown: true, code: code ?? Code.internalError }), sentAt, true));
        }
        throw new errors/* PublishError */.S1(message, { code });
    }
    // ───────────────────────────── confirming an ambiguous send ─────────────────────────────
    /**
     * After a request that may still be running: finds its post row (same account, same text,
     * created since the request was sent) and waits while it is `publishing`. Returns the row,
     * or undefined when none appeared (the request never reached the handler). Throws when the
     * outcome cannot be learnt before the deadline.
     */
    async confirm(what, target, noAnswer) {
        const interval = this.config.confirmIntervalMs ?? 2000;
        const bound = noAnswer.sentAt + handlerBoundMs(target);
        this.config.log.info(`${what}: ${noAnswer.cause.message}. letmepost has no lock on a key while a request runs, so sending it again now could post twice; looking for the post instead (GET /v1/posts) and waiting until letmepost has finished it`);
        const firstLook = Date.now();
        for (;;) {
            let found;
            try {
                found = await this.findRow(target, noAnswer.sentAt);
            }
            catch (error) {
                throw new errors/* PublishError */.S1((0,secrets/* redact */.E$)(`${noAnswer.cause.message}; the post may have been published, and looking it up failed too (${error instanceof Error ? error.message : String(error)}). Check the account in letmepost before re-running: a re-run within 24 h is safe (it replays under the same key) once the first request has finished`), { outcomeUnknown: true, code: 'failed', cause: noAnswer.cause });
            }
            const now = Date.now();
            if (found !== undefined && found.status !== 'publishing') {
                this.config.log.info(`${what}: letmepost finished the request: post ${found.id} is ${found.status}`);
                return found;
            }
            // A row is inserted as soon as the handler starts: after an HTTP answer one look tells,
            // after a lost connection the request may still be on its way in.
            if (found === undefined && (noAnswer.answered || now - firstLook >= ROW_APPEARS_MS))
                return undefined;
            if (now + interval >= this.config.deadline || now >= bound) {
                const where = found !== undefined
                    ? `letmepost is still publishing it (post ${found.id}), and the step's deadline${now >= bound ? " (or the server's own time limits)" : ''} came first`
                    : "letmepost shows no post for it (so it most likely never reached letmepost), but the step's deadline came before that was certain";
                throw new errors/* PublishError */.S1((0,secrets/* redact */.E$)(`${noAnswer.cause.message}; ${where}, so the post may have been published. Check it in letmepost${found !== undefined ? ` (GET /v1/posts/${found.id})` : ''}; re-running the job later is safe: it replays the finished request under the same key`), { outcomeUnknown: true, code: 'failed', cause: noAnswer.cause });
            }
            if (found !== undefined)
                this.config.log.info(`${what}: post ${found.id} is still publishing; looking again in ${(interval / 1000).toFixed(0)} s`);
            await this.wait(interval);
        }
    }
    /** The post row this target's request made, if any: same account and text, created since it was sent (server clock). */
    async findRow(target, sentAt) {
        const url = new URL(`${this.base}/v1/posts`);
        url.searchParams.set('platform', target.platform);
        url.searchParams.set('after', new Date(sentAt - LOOKBACK_MS).toISOString());
        url.searchParams.set('limit', '50');
        // Rows carry their media as sent (inline images included): a page can be large.
        const response = await (0,http/* httpRequest */.aj)('GET /v1/posts', url.href, { method: 'GET', headers: { Authorization: `Bearer ${this.config.token}` } }, Math.min(this.config.requestTimeoutMs, 30_000), this.config.fetch, { maxBytes: 64 * 1024 * 1024 });
        if (response.status !== 200)
            throw new Error(describeApiError(response.status, parseErrorEnvelope(response.body), response.headers.get('x-request-id')));
        // The server's clock may differ from this runner's: its Date header tells by how much.
        const serverDate = Date.parse(response.headers.get('date') ?? '');
        const skew = Number.isNaN(serverDate) ? 0 : serverDate - Date.now();
        const since = sentAt + skew - 5_000;
        const text = target.texts[0] ?? '';
        const candidates = readPostRows(parseJson(response.body))
            .rows.filter((row) => row.accountId === target.account && row.text === text && row.createdAt >= since)
            .sort((a, b) => a.createdAt - b.createdAt);
        // Two rows with this text in the window: a second run of the same step raced this one.
        if (candidates.length > 1) {
            this.config.log.warning(`${target.label} → ${target.platform}: letmepost shows ${candidates.length} posts with this text since this request was sent — another run of this step sent the same post at the same time (letmepost has no lock on a key while a request runs: use 'concurrency:' in the workflow). Reporting the first: ${candidates[0].id}`);
        }
        return candidates[0];
    }
    // ───────────────────────────── media ─────────────────────────────
    /** Uploads a local file once per run; returns its media id. */
    upload(media) {
        const path = media.path;
        let pending = this.uploads.get(path);
        if (!pending) {
            pending = this.uploadOnce(media);
            this.uploads.set(path, pending);
        }
        return pending;
    }
    async uploadOnce(media) {
        const path = media.path;
        const what = `upload ${media.displayPath ?? (0,external_node_path_.basename)(path)}`;
        this.config.log.info(`${what}: POST /v1/media (${media.size ?? '?'} bytes)`);
        // An upload is not idempotent, but a duplicate upload is only an unused file on the
        // server, never a duplicate post: safe to retry.
        return (0,retry/* withRetries */.LH)(what, async () => {
            const form = new FormData();
            form.append('file', await (0,external_node_fs_.openAsBlob)(path, { type: media.mimeType ?? 'application/octet-stream' }), (0,external_node_path_.basename)(path));
            // Room to send the file at 1 MB/s on top of the usual limit.
            const timeout = Math.min(this.config.requestTimeoutMs + Math.ceil((media.size ?? 0) / 1_000_000) * 1000, Math.max(1000, this.config.deadline - Date.now()));
            const response = await (0,http/* httpRequest */.aj)(what, `${this.base}/v1/media`, { method: 'POST', headers: { Authorization: `Bearer ${this.config.token}` }, body: form }, timeout, this.config.fetch);
            if (response.status >= 200 && response.status < 300) {
                const parsed = parseJson(response.body);
                const id = isObject(parsed) ? str(parsed.id) : undefined;
                if (id)
                    return id;
                throw new errors/* PublishError */.S1(`${what}: letmepost answered HTTP ${response.status} without a media id`, { retryable: true });
            }
            const envelope = parseErrorEnvelope(response.body);
            const message = `${what}: ${describeApiError(response.status, envelope, response.headers.get('x-request-id'))}`;
            const retryable = response.status >= 500 || (response.status === 429 && envelope?.code !== Code.quotaExceeded);
            throw new errors/* PublishError */.S1(message, { retryable, retryAfterMs: (0,http/* retryAfterMs */.Vs)(response.headers.get('retry-after')) });
        }, this.policy, this.config.log, this.wait);
    }
}
/** The server wants the documented single-account request shape. */
class AccountShapeWanted extends errors/* PublishError */.S1 {
}
/** Ends the retry loop: the request may still be running on the server. */
class NoAnswerError extends errors/* PublishError */.S1 {
    noAnswer;
    constructor(noAnswer) {
        // Not retryable: withRetries gives it back at once, and post() confirms instead.
        super(noAnswer.cause.message, { outcomeUnknown: true, code: noAnswer.cause.code, cause: noAnswer.cause });
        this.noAnswer = noAnswer;
    }
}
/** A finished post row, read as the answer its request would have had. */
function rowOutcome(row) {
    const out = { postId: row.id, status: row.status, warnings: [], replayed: false };
    if (row.platformUri)
        out.uri = row.platformUri;
    if (row.platformCid)
        out.cid = row.platformCid;
    if (row.scheduledAt)
        out.scheduledAt = row.scheduledAt;
    if (row.error)
        out.error = row.error;
    return out;
}
function outcomeStatus(status) {
    switch (status) {
        case 'published':
            return 'published';
        case 'queued':
            return 'queued';
        case 'failed':
        case 'partial_failed':
            return 'failed';
        case 'rejected':
        case 'canceled':
            return 'rejected';
        // accepted and on its way; letmepost finishes it.
        case 'validated':
        case 'publishing':
            return 'published';
        default:
            return undefined;
    }
}


/***/ })

};
