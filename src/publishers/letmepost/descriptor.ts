/**
 * letmepost (`POST /v1/posts`): any target whose account is a letmepost account id. Its
 * guarantee: the server replays a request under the same Idempotency-Key for 24 hours (with
 * no lock while a request runs: see no-answer.ts). One text per post; schedules natively.
 */
import { InputError, quote, type FieldProblem } from '../../errors.js';
import { LETMEPOST_PLATFORMS, PLATFORM_LIMITS } from '../../model/platforms.js';
import { DIRECT_ACCOUNTS, isUuid } from '../../model/post.js';
import type { PublisherDescriptor } from '../types.js';

export interface LetmepostSettings {
  token?: string;
  apiUrl: string;
}

/** The largest file `POST /v1/media` takes. */
export const LETMEPOST_UPLOAD_MAX_BYTES = 200 * 1024 * 1024;

export const letmepost: PublisherDescriptor<LetmepostSettings> = {
  kind: 'letmepost',
  title: 'letmepost',
  serves: (target) => !(DIRECT_ACCOUNTS as readonly string[]).includes(target.account),
  idempotencyWindowMs: 24 * 3600_000,
  idempotencyWindowText: '24 hours',
  retractEffect: { deletesPublished: false, text: 'letmepost cancels a queued post (DELETE /v1/posts/{id}) but cannot delete a published one: delete it on the platform by hand' },
  editEffect: 'moves a queued post to the new time (PATCH /v1/posts/{id}); a text edit, which letmepost cannot apply to a queued post, cancels it (DELETE) and queues the edited post in its place',
  replacesEditedText: true,
  idempotencyWindowBrief: 'letmepost 24 h',
  minScheduleLeadMs: 1000,
  needsAnchorTime: false,
  postsThreads: false,
  checksTextCap: true,
  textCapHint: (platform) => (platform === 'bluesky' ? ', or post with the direct Bluesky publisher, which splits long text into a thread' : ''),

  checks({ post, platform, account, media, targetPath }) {
    const problems: FieldProblem[] = [];
    if (!(LETMEPOST_PLATFORMS as readonly string[]).includes(platform)) {
      problems.push({ path: targetPath, message: `names platform '${platform}', which letmepost does not serve; use account 'mastodon' to post with the direct Mastodon publisher` });
    }
    if (!isUuid(account)) {
      problems.push({ path: targetPath, message: `has account ${quote(account)}, which is neither a letmepost account id (a uuid) nor 'bluesky' / 'mastodon'; copy the id from the letmepost dashboard (or use 'x' for the direct X publisher)` });
    }
    // A local video is uploaded first (POST /v1/media): its size is checked before, not after streaming it.
    const limits = PLATFORM_LIMITS[platform];
    media.forEach((m, i) => {
      if (m.kind !== 'video' || m.size === undefined) return;
      const cap = Math.min(limits.maxVideoBytes ?? Number.POSITIVE_INFINITY, m.path !== undefined ? LETMEPOST_UPLOAD_MAX_BYTES : Number.POSITIVE_INFINITY);
      if (Number.isFinite(cap) && m.size > cap) {
        const name = m.displayPath ?? m.url ?? `item ${i + 1}`;
        problems.push({ path: ['media', i], message: `${quote(name)} is ${m.size.toLocaleString('en-US')} bytes; ${limits.displayName} videos must be at most ${cap.toLocaleString('en-US')} bytes${cap === LETMEPOST_UPLOAD_MAX_BYTES ? " (letmepost's upload limit)" : ''}; shorten or recompress it` });
      }
    });
    if (platform === 'bluesky' && post.bluesky?.replyTo !== undefined && post.scheduledAt !== undefined) {
      problems.push({ path: ['bluesky', 'replyTo'], message: 'cannot be combined with a scheduled post through letmepost (it refuses scheduled replies); post the reply now, or schedule it with the direct Bluesky publisher' });
    }
    return problems;
  },

  secrets: (settings) => [settings.token],

  credentialErrors: (settings) =>
    settings.token
      ? []
      : [new InputError('letmepost-token', "Input 'letmepost-token' is required to post through letmepost; add an API key as a repository secret and pass it: letmepost-token: ${{ secrets.LETMEPOST_TOKEN }}")],

  async create(settings, env) {
    const { LetmepostPublisher } = await import('./publisher.js');
    return new LetmepostPublisher({ token: settings.token ?? '', apiUrl: settings.apiUrl, requestTimeoutMs: env.requestTimeoutMs, deadline: env.deadline, log: env.log });
  },
};
