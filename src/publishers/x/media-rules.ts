/**
 * What the direct X publisher takes as media, as pure rules: read by the descriptor in
 * preflight (from what is known of each item) and by the publisher again once media given by
 * URL are fetched. No I/O here, so the descriptor loads nothing with it.
 */

export const X_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export const X_MAX_IMAGE_BYTES = 5_000_000;
export const X_MAX_ALT = 1000;
export const X_MAX_IMAGES = 4;

/** Why X (through this publisher) would refuse these media; empty when they fit. Known facts only: a URL's type and size are learnt when fetched. */
export function imageProblems(media: ReadonlyArray<{ name: string; kind: string; mimeType?: string; size?: number; alt?: string }>): string[] {
  const problems: string[] = [];
  if (media.length > X_MAX_IMAGES) problems.push(`${media.length} items; a post on X takes at most ${X_MAX_IMAGES} images`);
  for (const m of media) problems.push(...itemProblems(m));
  return problems;
}

/** Why X (through this publisher) would refuse one item, each message beginning with its quoted name. */
export function itemProblems(m: { name: string; kind: string; mimeType?: string; size?: number; alt?: string }): string[] {
  if (m.kind !== 'image') {
    return [`'${m.name}' is a ${m.kind}: media to X through the direct publisher are images only, video is not supported yet; post it through letmepost (a twitter target with your letmepost account id)`];
  }
  const problems: string[] = [];
  if (m.mimeType !== undefined && !(X_IMAGE_TYPES as readonly string[]).includes(m.mimeType)) {
    problems.push(`'${m.name}' is ${m.mimeType}; the direct X publisher takes JPEG, PNG or WebP images (GIF not yet); convert it, or post it through letmepost`);
  }
  if (m.size !== undefined && m.size > X_MAX_IMAGE_BYTES) problems.push(`'${m.name}' is ${m.size.toLocaleString('en-US')} bytes; X takes images up to 5,000,000 bytes; resize or recompress it`);
  if (m.alt !== undefined && [...m.alt].length > X_MAX_ALT) problems.push(`the alt text of '${m.name}' is ${[...m.alt].length} characters; X allows ${X_MAX_ALT}; shorten it`);
  return problems;
}
