/**
 * One post model for both sources: workflow inputs and YAML post files are turned into the
 * same shape and validated by this schema, which is also exported as the JSON Schema that
 * editors use to autocomplete post files.
 */
import * as z from 'zod';
import { normalizePlatform, PLATFORMS, type Platform } from './platforms.js';

/** Account names that select a direct adapter configured in the step instead of letmepost. */
export const DIRECT_ACCOUNTS = ['bluesky', 'mastodon'] as const;

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

export const targetSchema = z.strictObject({
  platform: platformField,
  account: z
    .string()
    .min(1)
    .describe("The letmepost account id (a uuid), or 'bluesky' / 'mastodon' for the direct adapter configured in the step."),
});

export const mediaSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe('A file in the repository (relative to the post file, or to the workspace for inputs).'),
    url: z.url({ protocol: /^https?$/ }).optional().describe('A publicly fetchable http(s) URL.'),
    alt: z.string().optional().describe('Alt text describing the image or video for people who cannot see it.'),
    kind: z.enum(['image', 'video']).optional().describe('image or video; guessed from the file name when omitted.'),
  })
  .refine((m) => (m.path === undefined) !== (m.url === undefined), {
    message: 'give exactly one of path or url',
  });

export const pinterestSchema = z.strictObject({
  boardId: z.string().min(1),
  destinationUrl: z.url().optional(),
  title: z.string().optional(),
});

export const threadsOptionsSchema = z.strictObject({ replyToId: z.string().min(1) });

export const blueskyOptionsSchema = z.strictObject({
  linkCard: z.boolean().optional().describe('Attach a link card for the first link when there is no media (default true).'),
  threadNumbering: z.boolean().optional().describe("Number the posts of a split thread '1/3' … (default false)."),
});

export const mastodonOptionsSchema = z.strictObject({
  visibility: z.enum(['public', 'unlisted', 'private', 'direct']).optional(),
  language: z.string().regex(/^[a-z]{2,3}$/, 'an ISO 639 language code such as en').optional(),
  spoilerText: z.string().optional().describe('Content warning shown before the text.'),
  sensitive: z.boolean().optional(),
});

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
    media: z.array(mediaSchema).default([]).describe('Images or a video, with alt text.'),
    scheduledAt: z.string().optional().describe('When to publish, ISO-8601 in UTC, e.g. 2026-12-01T09:00:00Z.'),
    firstComment: z.string().min(1).optional().describe('A reply posted right after the post (Bluesky only).'),
    pinterest: pinterestSchema.optional(),
    threads: threadsOptionsSchema.optional(),
    bluesky: blueskyOptionsSchema.optional(),
    mastodon: mastodonOptionsSchema.optional(),
  })
  .refine((p) => (p.text === undefined) !== (p.thread === undefined), {
    message: 'give exactly one of text or thread',
    path: ['text'],
  });

export type PostInput = z.input<typeof postSchema>;
export type PostDefinition = z.output<typeof postSchema>;
export type TargetDefinition = z.output<typeof targetSchema>;
export type MediaDefinition = z.output<typeof mediaSchema>;

/** The JSON Schema for post files (one document = one post). */
export function postJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(postSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://github.com/letmepost/letmepost-action/dist/post.schema.json',
    title: 'letmepost-action post file',
    description: 'One social post per YAML document: text or thread, targets, media, schedule.',
  };
}
