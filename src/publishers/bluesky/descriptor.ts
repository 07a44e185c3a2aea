/**
 * The direct Bluesky publisher (target account `bluesky`): permanent exactly-once, since
 * every post's record key is derived from its idempotency key and a stable anchor time (see
 * publisher.ts). Long text becomes a thread; no native scheduling (a later run posts when due).
 */
import { InputError, quote, type FieldProblem } from '../../errors.js';
import type { PublisherDescriptor } from '../types.js';
import { splitThread } from './split.js';

export interface BlueskySettings {
  identifier?: string;
  appPassword?: string;
  service: string;
}

export const BLUESKY_MAX_VIDEO_BYTES = 100 * 1024 * 1024;

export const bluesky: PublisherDescriptor<BlueskySettings> = {
  kind: 'bluesky',
  title: 'the direct Bluesky publisher',
  directTo: 'Bluesky',
  serves: (target) => target.account === 'bluesky',
  idempotencyWindowMs: Number.POSITIVE_INFINITY,
  idempotencyWindowText: 'ever',
  retractEffect: { deletesPublished: true, text: 'deletes every post of the thread and the first comment (com.atproto.repo.deleteRecord)' },
  editEffect: 'a post not yet due is sent as edited when a run finds it due (nothing was sent before)',
  minScheduleLeadMs: Number.NEGATIVE_INFINITY,
  needsAnchorTime: true,
  postsThreads: true,
  linkFacets: true,
  takes: { languages: true, labels: true },
  splitCount: (text, options) => splitThread(text, { numbering: options.bluesky?.threadNumbering === true }).length,
  checksTextCap: false,

  checks({ platform, media, targetPath }) {
    const problems: FieldProblem[] = [];
    if (platform !== 'bluesky') problems.push({ path: targetPath, message: `uses the direct bluesky publisher for platform '${platform}'; it can only post to bluesky` });
    media.forEach((m, i) => {
      if (m.kind !== 'video') return;
      const name = m.displayPath ?? m.url ?? `item ${i + 1}`;
      if (m.mimeType !== undefined && m.mimeType !== 'video/mp4') problems.push({ path: ['media', i], message: `${quote(name)} is ${m.mimeType}; Bluesky takes MP4 video; convert it` });
      if (m.size !== undefined && m.size > BLUESKY_MAX_VIDEO_BYTES) problems.push({ path: ['media', i], message: `${quote(name)} is ${m.size.toLocaleString('en-US')} bytes; Bluesky videos must be at most 100 MB` });
    });
    return problems;
  },

  secrets: (settings) => [settings.appPassword],

  credentialErrors(settings) {
    const errors: InputError[] = [];
    if (!settings.identifier) errors.push(new InputError('bluesky-identifier', "Input 'bluesky-identifier' is required to post to Bluesky directly; set it to the account's handle (e.g. you.bsky.social), DID or email"));
    if (!settings.appPassword) {
      errors.push(
        new InputError(
          'bluesky-app-password',
          "Input 'bluesky-app-password' is required to post to Bluesky directly; create an app password in Bluesky (Settings → Privacy and security → App passwords), store it as a secret and pass it: bluesky-app-password: ${{ secrets.BLUESKY_APP_PASSWORD }}",
        ),
      );
    }
    return errors;
  },

  async create(settings, env) {
    // Loaded on demand: the publisher is a chunk of its own that runs without Bluesky never parse.
    const { BlueskyPublisher } = await import('./publisher.js');
    return new BlueskyPublisher({ identifier: settings.identifier ?? '', appPassword: settings.appPassword ?? '', service: settings.service, requestTimeoutMs: env.requestTimeoutMs, deadline: env.deadline, log: env.log });
  },
};
