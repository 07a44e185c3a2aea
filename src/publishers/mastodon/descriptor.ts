/**
 * The direct Mastodon publisher (target account `mastodon`): the instance replays a status
 * posted under the same Idempotency-Key for about an hour. Long text becomes a thread (the
 * instance's own limit decides); native scheduling, five minutes ahead at least.
 */
import { InputError, type FieldProblem } from '../../errors.js';
import type { PublisherDescriptor } from '../types.js';

export interface MastodonSettings {
  server?: string;
  token?: string;
}

export const mastodon: PublisherDescriptor<MastodonSettings> = {
  kind: 'mastodon',
  title: 'the direct Mastodon publisher',
  directTo: 'Mastodon',
  serves: (target) => target.account === 'mastodon',
  idempotencyWindowMs: 3600_000,
  idempotencyWindowText: 'about an hour',
  retractEffect: { deletesPublished: true, text: 'deletes every status of the thread (DELETE /api/v1/statuses/:id), or cancels the scheduled status while it is queued' },
  editEffect: 'moves a scheduled status to the new time (PUT /api/v1/scheduled_statuses/:id); a text edit, which Mastodon cannot apply to a scheduled status, cancels it and schedules the edited status in its place',
  replacesEditedText: true,
  idempotencyWindowBrief: 'Mastodon ~1 h',
  minScheduleLeadMs: 5 * 60_000,
  needsAnchorTime: false,
  postsThreads: true,
  takes: { languages: true, labels: true },
  checksTextCap: false,
  lengthNote: "the instance's limit is checked when posting; longer text becomes a thread",

  checks({ post, platform, texts, targetPath }) {
    const problems: FieldProblem[] = [];
    if (platform !== 'mastodon') problems.push({ path: targetPath, message: `uses the direct mastodon publisher for platform '${platform}'; it can only post to mastodon` });
    if (post.scheduledAt !== undefined && texts.length > 1) {
      problems.push({ path: ['thread'], message: 'is a thread, which Mastodon cannot schedule (a reply needs its parent to exist); post it unscheduled, or schedule a single text' });
    }
    const own = post.mastodon?.language;
    const first = post.languages?.[0]?.split('-')[0]?.toLowerCase();
    if (own !== undefined && first !== undefined && own !== first) {
      problems.push({ path: ['mastodon', 'language'], message: `is '${own}', but the post's languages start with '${post.languages![0]}'; Mastodon takes one language: keep one of the two (languages serves every publisher)` });
    }
    return problems;
  },

  secrets: (settings) => [settings.token],

  credentialErrors(settings) {
    const errors: InputError[] = [];
    if (!settings.server) errors.push(new InputError('mastodon-server', "Input 'mastodon-server' is required to post to Mastodon; set it to your instance's URL, e.g. https://mastodon.social"));
    if (!settings.token) {
      errors.push(new InputError('mastodon-token', "Input 'mastodon-token' is required to post to Mastodon; create an application with the write:statuses and write:media scopes in your instance's Development settings and pass its access token as a secret"));
    }
    return errors;
  },

  async create(settings, env) {
    const { MastodonPublisher } = await import('./publisher.js');
    return new MastodonPublisher({ server: settings.server ?? '', token: settings.token ?? '', requestTimeoutMs: env.requestTimeoutMs, deadline: env.deadline, log: env.log });
  },
};
