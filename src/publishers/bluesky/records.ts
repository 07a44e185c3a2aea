/**
 * Which records a Bluesky target becomes, before anything is sent: the posts of the thread
 * (a long single text split, or the explicit thread), then the first comment — each with
 * its own idempotency key and record key, derived from the target's key and its stable
 * anchor time, so every run plans exactly the same record keys. `createdAt` is not planned:
 * a record says when it was written (a backdated post sorts low in feeds and the Bluesky app
 * labels it archived), and exactly-once rests on the record key, never on identical bytes.
 */
import type { PlannedTarget } from '../types.js';
import { splitThread } from './split.js';
import type { TextLink } from '../../text/rich-text.js';
import { tidFromKey } from './tid.js';

export interface PlannedPost {
  /** 0-based position in writing order (thread posts, then the first comment). */
  index: number;
  kind: 'post' | 'first-comment';
  /** '1/3' …, 'first-comment'; absent for a single post. */
  part?: string;
  key: string;
  rkey: string;
  text: string;
  /** Its links beside the text (rendered Markdown), when the planner gave them. */
  links?: readonly TextLink[];
}

/** The stable time behind the record keys: the orchestrator's anchor, else the schedule. */
export function anchorOf(target: Pick<PlannedTarget, 'anchorTime' | 'scheduledAt'>): number | undefined {
  if (target.anchorTime !== undefined && Number.isFinite(target.anchorTime)) return Math.trunc(target.anchorTime);
  if (target.scheduledAt !== undefined) {
    const ms = Date.parse(target.scheduledAt);
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

export function planPosts(target: Pick<PlannedTarget, 'keys' | 'texts' | 'links' | 'firstComment' | 'options'>, anchorMs: number): PlannedPost[] {
  const texts = target.texts.length === 1 ? splitThread(target.texts[0]!, { numbering: target.options.bluesky?.threadNumbering === true }) : target.texts;
  // Links beside the text hold for the texts as planned; a text split here finds its links itself.
  const links = texts === target.texts || texts.length === 1 ? target.links : undefined;
  const planned: PlannedPost[] = [];
  const at = (index: number, kind: PlannedPost['kind'], key: string, text: string, part: string | undefined, textLinks?: readonly TextLink[]) => {
    // Each later post's record key is 1 ms younger, so replies sort after what they answer.
    const time = anchorMs + index;
    planned.push({ index, kind, ...(part !== undefined ? { part } : {}), key, rkey: tidFromKey(key, time), text, ...(textLinks && textLinks.length > 0 ? { links: textLinks } : {}) });
  };
  texts.forEach((text, i) => {
    const key = target.keys.parts[i]!;
    at(i, 'post', key, text, texts.length > 1 ? `${i + 1}/${texts.length}` : undefined, links?.[i]);
  });
  if (target.firstComment !== undefined) at(texts.length, 'first-comment', target.keys.firstComment, target.firstComment, 'first-comment');
  return planned;
}

/**
 * What every record of the target carries besides its text: the post's languages (`langs`,
 * at most 3 by the lexicon) and the author's self-labels (com.atproto.label.defs#selfLabels).
 */
export function recordExtras(target: Pick<PlannedTarget, 'languages' | 'labels'>): Record<string, unknown> {
  return {
    ...(target.languages && target.languages.length > 0 ? { langs: [...target.languages] } : {}),
    ...(target.labels && target.labels.length > 0 ? { labels: { $type: 'com.atproto.label.defs#selfLabels', values: target.labels.map((val) => ({ val })) } } : {}),
  };
}
