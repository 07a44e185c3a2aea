/**
 * One post model for both sources: workflow inputs and YAML post files are turned into the
 * same shape and validated by this schema, which is also exported as the JSON Schema that
 * editors use to autocomplete post files.
 */
import * as z from 'zod';
import { LETMEPOST_PLATFORMS, normalizePlatform, PLATFORM_ALIASES, PLATFORM_LIMITS, PLATFORMS, type Platform } from './platforms.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A letmepost account id is a uuid. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Account names that select a direct adapter configured in the step instead of letmepost. */
export const DIRECT_ACCOUNTS = ['bluesky', 'mastodon', 'x'] as const;

/** The platform each direct account posts to. */
export const DIRECT_ACCOUNT_PLATFORM: Readonly<Record<(typeof DIRECT_ACCOUNTS)[number], Platform>> = { bluesky: 'bluesky', mastodon: 'mastodon', x: 'twitter' };

const platformField = z
  .string()
  .describe(`Platform: ${PLATFORMS.join(', ')} (x is accepted for twitter).`)
  .transform((value, ctx): Platform => {
    const platform = normalizePlatform(value);
    if (platform === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown platform '${value}'; use one of ${PLATFORMS.join(', ')} (x is accepted for twitter)`,
      });
      return z.NEVER;
    }
    return platform;
  });

/** How Markdown notes that do not fit one post are posted (see text/platform-text.ts). */
export const NOTES_MODES = ['truncate', 'thread', 'link-only'] as const;
export type NotesMode = (typeof NOTES_MODES)[number];

export const targetSchema = z
  .strictObject({
    platform: platformField,
    account: z
      .string()
      .min(1)
      .describe("The letmepost account id (a uuid), or 'bluesky' / 'mastodon' / 'x' for the direct adapter configured in the step."),
    text: z.string().optional().describe("This target's own text, instead of the post's (one text per platform)."),
    thread: z.array(z.string()).min(1).optional().describe("This target's own thread, instead of the post's text."),
  })
  .refine((t) => t.text === undefined || t.thread === undefined, { message: 'give at most one of text or thread for a target', path: ['thread'] });

export const mediaSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe('A file in the repository (relative to the post file, or to the workspace for inputs).'),
    url: z.url({ protocol: /^https?$/ }).optional().describe('A publicly fetchable http(s) URL.'),
    releaseAsset: z
      .string()
      .min(1)
      .optional()
      .describe("An asset of the release that triggered the run, by name or glob (screenshot.png, *.png): downloaded with github-token; its label is the alt text unless 'alt' is given."),
    notesImages: z
      .union([z.literal(true), z.number().int().min(1).max(20)])
      .optional()
      .describe("The images of the release notes (or the merged pull request's description) that GitHub hosts — pasted screenshots, files of this repository — in order: true for as many as the post's platforms take, or at most this many. Each needs its own alt text in the notes."),
    alt: z.string().optional().describe('Alt text describing the image or video for people who cannot see it.'),
    kind: z.enum(['image', 'video']).optional().describe('image or video; guessed from the file name when omitted.'),
  })
  .refine((m) => [m.path, m.url, m.releaseAsset, m.notesImages].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of path, url, releaseAsset or notesImages',
  })
  .refine((m) => m.notesImages === undefined || (m.alt === undefined && m.kind === undefined), {
    message: "notesImages takes each image's alt text from the notes (![what it shows](…)); remove 'alt' and 'kind' here",
    path: ['alt'],
  });

export const pinterestSchema = z.strictObject({
  boardId: z.string().min(1),
  destinationUrl: z.url().optional(),
  title: z.string().min(1).optional(),
  coverImageUrl: z.url({ protocol: /^https?$/ }).optional().describe('A video pin: the cover image, a public http(s) URL.'),
});

export const threadsOptionsSchema = z.strictObject({ replyToId: z.string().min(1) });

/** A post on Bluesky, as a reply names it: its AT-URI and the cid of the version replied to. */
export const strongRefSchema = z.strictObject({
  uri: z
    .string()
    .regex(/^at:\/\/[^/\s]+\/app\.bsky\.feed\.post\/[^/\s]+$/, 'an AT-URI of a Bluesky post, at://<did>/app.bsky.feed.post/<rkey> (the uri output of the step that posted it)')
    .describe('The AT-URI of the post, e.g. the uri output of an earlier step.'),
  cid: z.string().regex(/^[a-z2-7]{16,}$/, 'a cid such as bafyrei… (the cid output of the step that posted it)').describe('Its cid, e.g. the cid output of an earlier step.'),
});

export const blueskyOptionsSchema = z
  .strictObject({
    linkCard: z.boolean().optional().describe('Attach a link card for the first link when there is no media (default true).'),
    threadNumbering: z.boolean().optional().describe("Number the posts of a split thread '1/3' … (default false)."),
    replyTo: strongRefSchema.optional().describe('Post as a reply to this Bluesky post.'),
    replyRoot: strongRefSchema.optional().describe("The first post of the conversation replied to, when replyTo is itself a reply (found by the direct publisher when left out)."),
  })
  .refine((b) => b.replyRoot === undefined || b.replyTo !== undefined, { message: 'replyRoot needs replyTo: give the post you reply to', path: ['replyRoot'] });

export const twitterOptionsSchema = z
  .strictObject({
    replyToTweetId: z.string().regex(/^\d{1,20}$/, 'a post id: the digits at the end of its x.com link').optional().describe('Post as a reply to this X post (its id).'),
    quoteTweetId: z.string().regex(/^\d{1,20}$/, 'a post id: the digits at the end of its x.com link').optional().describe('Quote this X post (its id).'),
  })
  .refine((t) => t.replyToTweetId === undefined || t.quoteTweetId === undefined, { message: 'an X post can reply or quote, not both: keep one of replyToTweetId and quoteTweetId', path: ['quoteTweetId'] });

export const TIKTOK_PRIVACY = ['public_to_everyone', 'mutual_follow_friend', 'self_only'] as const;

export const tiktokOptionsSchema = z
  .strictObject({
    privacy: z.enum(TIKTOK_PRIVACY).optional().describe('Who can watch: public_to_everyone, mutual_follow_friend or self_only.'),
    disableComment: z.boolean().optional(),
    disableDuet: z.boolean().optional(),
    disableStitch: z.boolean().optional(),
    brandContentToggle: z.boolean().optional().describe('The video promotes a third party (paid partnership).'),
    brandOrganicToggle: z.boolean().optional().describe('The video promotes your own business.'),
  })
  .refine((t) => !(t.brandContentToggle === true && t.brandOrganicToggle === true), { message: 'TikTok takes one of brandContentToggle and brandOrganicToggle, not both', path: ['brandOrganicToggle'] });

export const mastodonOptionsSchema = z.strictObject({
  visibility: z.enum(['public', 'unlisted', 'private', 'direct']).optional(),
  language: z.string().regex(/^[a-z]{2,3}$/, 'an ISO 639 language code such as en').optional(),
  spoilerText: z.string().optional().describe('Content warning shown before the text.'),
  sensitive: z.boolean().optional(),
});

/** Bluesky's self-labels (com.atproto.label.defs#selfLabels, the values its app shows a warning for). */
export const CONTENT_LABELS = ['nudity', 'sexual', 'porn', 'graphic-media'] as const;

/** A BCP-47 language tag as the platforms take them: en, pt-BR, zh-Hant. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

export const postSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'up to 64 letters, digits, dots, dashes or underscores')
      .optional()
      .describe("A stable identity for this post; keeps its idempotency key when the file is renamed."),
    text: z.string().optional().describe('The text of the post.'),
    thread: z.array(z.string()).min(1).optional().describe('A thread: one text per post, in order.'),
    targets: z.array(targetSchema).min(1).describe('Where to post: one entry per platform account.'),
    format: z.enum(['plain', 'markdown']).optional().describe("markdown: the text is GitHub Markdown, rendered for each platform (links, lists, headings; the author's @mentions stay); plain (default): posted as written."),
    releaseNotes: z
      .enum(NOTES_MODES)
      .optional()
      .describe('How Markdown notes that do not fit one post are posted: truncate (default: one post, cut after a paragraph with … and the release link), thread (split on paragraphs into a thread, direct publishers), link-only (leave the notes out, keep the link).'),
    media: z.array(mediaSchema).default([]).describe('Images or a video, with alt text.'),
    scheduledAt: z.string().optional().describe('When to publish, ISO-8601 in UTC, e.g. 2026-12-01T09:00:00Z.'),
    firstComment: z.string().min(1).optional().describe('A reply posted right after the post (Bluesky only).'),
    languages: z
      .array(z.string().regex(LANGUAGE_TAG, 'a BCP-47 language tag such as en, de or pt-BR'))
      .min(1)
      .max(3, 'at most 3 languages (Bluesky records take 3)')
      .optional()
      .describe("The post's languages, e.g. [en, de]: Bluesky's langs (at most 3), Mastodon's language (the first)."),
    labels: z
      .array(z.enum(CONTENT_LABELS))
      .min(1)
      .optional()
      .describe('Content warnings the author gives their own post: nudity, sexual, porn, graphic-media. Bluesky self-labels; on Mastodon the post is marked sensitive.'),
    pinterest: pinterestSchema.optional(),
    threads: threadsOptionsSchema.optional(),
    twitter: twitterOptionsSchema.optional().describe('X (twitter), through letmepost or the direct X publisher: reply to or quote a post.'),
    tiktok: tiktokOptionsSchema.optional().describe('TikTok through letmepost: privacy and interaction settings.'),
    bluesky: blueskyOptionsSchema.optional(),
    mastodon: mastodonOptionsSchema.optional(),
    retract: z
      .union([z.boolean(), z.string().trim().min(1)], { error: 'expected true (delete what this post published), or the reason as text; false or no field keeps the post' })
      .optional()
      .describe('Delete what this post published, where the platform allows it: true, or the reason as text (false or absent: keep it). Runs once.'),
  })
  .refine((p) => (p.text === undefined) !== (p.thread === undefined), {
    message: 'give exactly one of text or thread',
    path: ['text'],
  });

export type PostInput = z.input<typeof postSchema>;
export type PostDefinition = z.output<typeof postSchema>;
export type TargetDefinition = z.output<typeof targetSchema>;
export type MediaDefinition = z.output<typeof mediaSchema>;

/** A pattern matching `word` in any letter case, as normalizePlatform accepts it. */
function anyCase(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
}

/**
 * The ISO-8601 date-times with a zone that parseScheduledAt accepts, days checked against
 * their month (Feb 29 only in leap years), as a JSON Schema pattern.
 */
const SCHEDULE_PATTERN = (() => {
  const leapYear = '(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)';
  const monthDay = '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))';
  const date = `(?:\\d{4}-${monthDay}|${leapYear}-02-29)`;
  const time = '(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,9})?)?';
  return `^\\s*${date}[Tt ]${time}(?:[Zz]|[+-]\\d{2}:?\\d{2})\\s*$`;
})();

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

function platformPattern(names: readonly string[]): string {
  return `^\\s*(?:${names.map(anyCase).join('|')})\\s*$`;
}

/** "Some target is on one of these platforms" (aliases included). */
function someTargetOn(...platforms: Platform[]): JsonSchema {
  const names = [...platforms, ...Object.entries(PLATFORM_ALIASES).filter(([, p]) => platforms.includes(p)).map(([alias]) => alias)];
  return { properties: { targets: { contains: { properties: { platform: { pattern: platformPattern(names) } }, required: ['platform'] } } }, required: ['targets'] };
}

/** The rules preflight applies between fields, as far as the file alone decides them. */
function crossFieldRules(): JsonSchema[] {
  const rules: JsonSchema[] = [
    // A first comment is a reply: it needs its post to exist, so no schedule, and Bluesky only.
    { not: { required: ['firstComment', 'scheduledAt'] } },
    { if: { required: ['firstComment'] }, then: { properties: { targets: { items: { properties: { platform: { pattern: platformPattern(['bluesky']) } } } } } } },
    // letmepost publishes one text per post: a thread needs direct publishers.
    { if: { required: ['thread'] }, then: { properties: { targets: { items: { properties: { account: { enum: [...DIRECT_ACCOUNTS] } } } } } } },
    { if: someTargetOn('pinterest'), then: { required: ['pinterest'] } },
    { if: someTargetOn('instagram'), then: { properties: { media: { minItems: 1 } }, required: ['media'] } },
  ];
  for (const platform of PLATFORMS) {
    const limits = PLATFORM_LIMITS[platform];
    // Mastodon's limit is the instance's own, learnt when publishing.
    if (platform === 'mastodon') continue;
    const most = limits.textOnly ? 0 : Math.max(limits.maxImages, limits.maxVideos);
    rules.push({ if: someTargetOn(platform), then: { properties: { media: { maxItems: most } } } });
  }
  return rules;
}

/** Something other than whitespace: an empty text is refused before sending. */
const NOT_BLANK = '\\S';

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema for post files (one document = one post). Zod's export keeps the fields and
 * types; the rules the action checks by code are added here, so that an editor refuses what
 * the action would refuse from the file alone: text or thread (exactly one), a known platform
 * (any case, x for twitter), a schedule with a zone on a real day, media with exactly one of
 * path and url, no blank text. Limits that depend on how each platform counts (length in
 * graphemes, media sizes) or on other files (media on disk, ids across files) stay the
 * action's to check.
 */
export function postJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(postSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const props = schema.properties as Record<string, JsonSchema>;
  props.text = { ...props.text, pattern: NOT_BLANK };
  const thread = props.thread as JsonSchema;
  thread.items = { ...(thread.items as JsonSchema), pattern: NOT_BLANK };
  props.firstComment = { ...props.firstComment, pattern: NOT_BLANK };
  props.scheduledAt = { ...props.scheduledAt, pattern: SCHEDULE_PATTERN };
  const target = (props.targets as JsonSchema).items as JsonSchema;
  const targetProps = target.properties as Record<string, JsonSchema>;
  targetProps.platform = { ...targetProps.platform, pattern: platformPattern([...PLATFORMS, ...Object.keys(PLATFORM_ALIASES)]) };
  // Who serves a target: a letmepost account (a uuid) on a letmepost platform, or a direct
  // publisher on its own platform.
  const letmepostNames = [...LETMEPOST_PLATFORMS, ...Object.entries(PLATFORM_ALIASES).filter(([, p]) => p !== 'mastodon').map(([alias]) => alias)];
  target.anyOf = [
    { properties: { account: { pattern: UUID_PATTERN }, platform: { pattern: platformPattern(letmepostNames) } } },
    ...DIRECT_ACCOUNTS.map((direct) => {
      const platform = DIRECT_ACCOUNT_PLATFORM[direct];
      const names = [platform, ...Object.entries(PLATFORM_ALIASES).filter(([, p]) => p === platform).map(([alias]) => alias)];
      return { properties: { account: { const: direct }, platform: { pattern: platformPattern(names) } } };
    }),
  ];
  const media = (props.media as JsonSchema).items as JsonSchema;
  media.oneOf = [{ required: ['path'] }, { required: ['url'] }, { required: ['releaseAsset'] }, { required: ['notesImages'] }];
  return {
    ...schema,
    oneOf: [{ required: ['text'] }, { required: ['thread'] }],
    allOf: crossFieldRules(),
    $id: 'https://github.com/letmepost/letmepost-action/dist/post.schema.json',
    title: 'letmepost-action post file',
    description: 'One social post per YAML document: text or thread, targets, media, schedule.',
  };
}
