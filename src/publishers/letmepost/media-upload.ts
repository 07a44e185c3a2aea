/**
 * Local files that cannot travel inside the post request (video, and images for platforms
 * that take media by URL) are uploaded first with `POST /v1/media`; the post names them by
 * the media id it returns.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { PublishError } from '../../errors.js';
import { httpRequest, retryAfterMs } from '../../io/http.js';
import { isObject, parseJson, str } from '../../io/json.js';
import { withRetries, type Clock, type RetryPolicy } from '../../io/retry.js';
import type { ResolvedMedia } from '../../model/media.js';
import { Code, describeApiError, parseErrorEnvelope } from './api.js';
import { apiBase, type LetmepostConfig } from './config.js';

export class MediaUploads {
  /** Each local file is uploaded once per run, however many targets use it. */
  private readonly uploads = new Map<string, Promise<string>>();

  constructor(
    private readonly config: LetmepostConfig,
    private readonly policy: RetryPolicy,
    private readonly clock: Clock,
  ) {}

  /** Uploads a local file once per run; returns its media id. */
  upload(media: ResolvedMedia): Promise<string> {
    const path = media.path!;
    let pending = this.uploads.get(path);
    if (!pending) {
      pending = this.uploadOnce(media);
      this.uploads.set(path, pending);
    }
    return pending;
  }

  private async uploadOnce(media: ResolvedMedia): Promise<string> {
    const path = media.path!;
    const what = `upload ${media.displayPath ?? basename(path)}`;
    this.config.log.info(`${what}: POST /v1/media (${media.size ?? '?'} bytes)`);
    // An upload is not idempotent, but a duplicate upload is only an unused file on the
    // server, never a duplicate post: safe to retry.
    return withRetries(
      what,
      async () => {
        const form = new FormData();
        form.append('file', await openAsBlob(path, { type: media.mimeType ?? 'application/octet-stream' }), basename(path));
        // Room to send the file at 1 MB/s on top of the usual limit.
        const timeout = Math.min(this.config.requestTimeoutMs + Math.ceil((media.size ?? 0) / 1_000_000) * 1000, Math.max(1000, this.config.deadline - Date.now()));
        const response = await httpRequest(what, `${apiBase(this.config)}/v1/media`, { method: 'POST', headers: { Authorization: `Bearer ${this.config.token}` }, body: form }, timeout, this.config.fetch);
        if (response.status >= 200 && response.status < 300) {
          const parsed = parseJson(response.body);
          const id = isObject(parsed) ? str(parsed.id) : undefined;
          if (id) return id;
          throw new PublishError(`${what}: letmepost answered HTTP ${response.status} without a media id`, { retryable: true });
        }
        const envelope = parseErrorEnvelope(response.body);
        const message = `${what}: ${describeApiError(response.status, envelope, response.headers.get('x-request-id'))}`;
        const retryable = response.status >= 500 || (response.status === 429 && envelope?.code !== Code.quotaExceeded);
        throw new PublishError(message, { retryable, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
      },
      this.policy,
      this.config.log,
      this.clock,
    );
  }
}
