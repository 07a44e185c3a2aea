/**
 * What the instance accepts (`GET /api/v2/instance`, or v1 on servers before 4.0), and how far
 * its clock is from ours: the limits decide how a text splits and which media fit, and the
 * clock offset tells a replayed status from a new one (publisher.ts).
 */
import { PublishError } from '../../errors.js';
import { compact, isObject, num, parseJson, type Json } from '../../io/json.js';
import type { MastodonClient } from './client.js';

/** What the instance accepts, from `GET /api/v2/instance`; Mastodon's defaults where it is silent. */
export interface InstanceLimits {
  maxCharacters: number;
  /** `characters_reserved_per_url`: every link counts as this many characters. */
  urlWeight: number;
  maxMediaAttachments: number;
  imageSizeLimit?: number;
  videoSizeLimit?: number;
  supportedMimeTypes?: string[];
  /** Longest alt text; instances before 4.4 do not say (the limit is 1500 there). */
  descriptionLimit: number;
  /** Server clock minus local clock, ms, from the Date header (0 when absent). */
  clockSkewMs: number;
  /** How far off clockSkewMs may be. */
  clockUncertaintyMs: number;
}

/** Mastodon's own defaults, used when the instance does not state a limit. */
export const MASTODON_DEFAULTS = { maxCharacters: 500, urlWeight: 23, maxMediaAttachments: 4, descriptionLimit: 1500 } as const;

/** Reads the limits from an instance entity (v2, or the v1 shape of older servers). */
export function readInstanceLimits(entity: Json): Omit<InstanceLimits, 'clockSkewMs' | 'clockUncertaintyMs'> {
  const configuration = isObject(entity.configuration) ? entity.configuration : {};
  const statuses = isObject(configuration.statuses) ? configuration.statuses : {};
  const media = isObject(configuration.media_attachments) ? configuration.media_attachments : {};
  const types = Array.isArray(media.supported_mime_types) ? media.supported_mime_types.filter((t): t is string => typeof t === 'string') : undefined;
  return compact({
    maxCharacters: num(statuses.max_characters) ?? num(entity.max_toot_chars) ?? MASTODON_DEFAULTS.maxCharacters,
    urlWeight: typeof statuses.characters_reserved_per_url === 'number' && statuses.characters_reserved_per_url >= 0 ? statuses.characters_reserved_per_url : MASTODON_DEFAULTS.urlWeight,
    maxMediaAttachments: num(statuses.max_media_attachments) ?? MASTODON_DEFAULTS.maxMediaAttachments,
    imageSizeLimit: num(media.image_size_limit),
    videoSizeLimit: num(media.video_size_limit),
    supportedMimeTypes: types && types.length > 0 ? types : undefined,
    descriptionLimit: num(media.description_limit) ?? MASTODON_DEFAULTS.descriptionLimit,
  }) as Omit<InstanceLimits, 'clockSkewMs' | 'clockUncertaintyMs'>;
}

/** Asks the instance for its limits and measures its clock against ours on the same answer. */
export async function fetchInstanceLimits(client: MastodonClient): Promise<InstanceLimits> {
  // v2 since Mastodon 4.0; v1 for older servers.
  for (const path of ['/api/v2/instance', '/api/v1/instance']) {
    const what = `GET ${path}`;
    const limits = await client.retrying(what, async () => {
      const before = Date.now();
      const response = await client.request(what, 'GET', path);
      const after = Date.now();
      if (response.status === 404 || response.status === 410) return undefined;
      if (response.status !== 200) throw client.failure(what, response);
      const entity = parseJson(response.body);
      if (!isObject(entity)) {
        throw new PublishError(`${what}: ${client.base} did not answer with Mastodon's instance description; check 'mastodon-server': it must be the instance's base URL, e.g. https://mastodon.social`);
      }
      // The Date header has one-second resolution and was stamped somewhere within the round trip.
      const serverDate = Date.parse(response.headers.get('date') ?? '');
      const clock = Number.isNaN(serverDate)
        ? { clockSkewMs: 0, clockUncertaintyMs: 5000 }
        : { clockSkewMs: serverDate - (before + after) / 2, clockUncertaintyMs: 1000 + (after - before) };
      return { ...readInstanceLimits(entity), ...clock };
    });
    if (limits) {
      client.log.debug(`${client.host}: up to ${limits.maxCharacters} characters (links count ${limits.urlWeight}), ${limits.maxMediaAttachments} media items`);
      return limits;
    }
  }
  throw new PublishError(`${client.base} has no Mastodon API (GET /api/v2/instance answered 404); check 'mastodon-server': it must be the instance's base URL, e.g. https://mastodon.social`, {
    code: 'not_found',
  });
}
