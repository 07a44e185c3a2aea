/** What the action knows about each social platform: names, text caps, media limits. */

/** Platforms served by the letmepost API, spelled as the API spells them. */
export const LETMEPOST_PLATFORMS = [
  'bluesky',
  'twitter',
  'threads',
  'linkedin',
  'pinterest',
  'facebook',
  'instagram',
  'tiktok',
] as const;

/** Every platform a target may name; Mastodon is served only by the direct adapter. */
export const PLATFORMS = [...LETMEPOST_PLATFORMS, 'mastodon'] as const;

export type LetmepostPlatform = (typeof LETMEPOST_PLATFORMS)[number];
export type Platform = (typeof PLATFORMS)[number];

/** Names users write that mean a platform under another name. */
export const PLATFORM_ALIASES: Readonly<Record<string, Platform>> = { x: 'twitter' };

/** Lower-cases, trims and resolves aliases; undefined when the name is unknown. */
export function normalizePlatform(raw: string): Platform | undefined {
  const name = raw.trim().toLowerCase();
  const resolved = PLATFORM_ALIASES[name] ?? name;
  return (PLATFORMS as readonly string[]).includes(resolved) ? (resolved as Platform) : undefined;
}

export interface PlatformLimits {
  /** Maximum text length in graphemes (Mastodon: the instance's own limit replaces this). */
  maxGraphemes: number;
  /** A cap on the UTF-8 bytes of a post's text, besides its length. */
  maxTextBytes?: number;
  /** Twitter counts every URL as this many characters, whatever its length. */
  urlWeight?: number;
  maxImages: number;
  maxImageBytes?: number;
  maxVideos: number;
  maxVideoBytes?: number;
  maxAltText?: number;
  requiresMedia?: boolean;
  textOnly?: boolean;
  /** A post takes images or one video, never both. */
  imagesOrVideo?: boolean;
  /** A first comment (a reply of the author's own) can follow the post. */
  firstComment?: boolean;
  displayName: string;
}

export const PLATFORM_LIMITS: Readonly<Record<Platform, PlatformLimits>> = {
  // Media sizes: what letmepost's publishers accept (its open-source server, 2026-06).
  bluesky: { displayName: 'Bluesky', firstComment: true, imagesOrVideo: true, maxGraphemes: 300, maxTextBytes: 3000, maxImages: 4, maxImageBytes: 1_000_000, maxVideos: 1, maxVideoBytes: 100_000_000, maxAltText: 2000 },
  twitter: { displayName: 'X (Twitter)', maxGraphemes: 280, urlWeight: 23, maxImages: 4, maxImageBytes: 5_000_000, maxVideos: 1, maxVideoBytes: 512_000_000 },
  threads: { displayName: 'Threads', maxGraphemes: 500, maxImages: 10, maxImageBytes: 8_000_000, maxVideos: 1, maxVideoBytes: 1_000_000_000 },
  linkedin: { displayName: 'LinkedIn', maxGraphemes: 3000, maxImages: 0, maxVideos: 0, textOnly: true },
  pinterest: { displayName: 'Pinterest', maxGraphemes: 500, maxImages: 1, maxImageBytes: 20_000_000, maxVideos: 1, maxVideoBytes: 2_000_000_000 },
  facebook: { displayName: 'Facebook', maxGraphemes: 63206, maxImages: 10, maxImageBytes: 4_000_000, maxVideos: 1, maxVideoBytes: 4_000_000_000 },
  instagram: { displayName: 'Instagram', maxGraphemes: 2200, maxImages: 10, maxImageBytes: 8_000_000, maxVideos: 1, maxVideoBytes: 1_000_000_000, requiresMedia: true },
  tiktok: { displayName: 'TikTok', maxGraphemes: 2200, maxImages: 35, maxVideos: 1, maxVideoBytes: 4 * 1024 * 1024 * 1024 },
  mastodon: { displayName: 'Mastodon', imagesOrVideo: true, maxGraphemes: 500, urlWeight: 23, maxImages: 4, maxVideos: 1, maxAltText: 1500 },
};
