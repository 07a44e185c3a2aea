/**
 * A marked post text (see marked-text.ts) made into what one platform shows: Markdown parts
 * rendered, GitHub references neutralised, and long notes fitted the way `release-notes` says:
 * - `truncate`: one post; the notes keep their first blocks (paragraphs, list items) that fit,
 *   the last kept one ends with '…', and the release link follows, whole;
 * - `thread`: the notes are split into posts on block boundaries (a block longer than a post
 *   is cut between words, never inside a link), up to the thread cap; what does not fit ends
 *   the last post with '…' and the link;
 * - `link-only`: the notes are left out; the text keeps its own words and the link.
 * The user's own words are never cut or dropped: a text whose own words do not fit is left
 * as it is, and preflight says it is too long. Pure: the platform's counting comes in `fits`.
 */
import { joinBlocks, neutralizeReferences, renderMarkdown, type MarkdownOptions, type RenderedBlock, type RichText, type TextLink } from './markdown.js';
import { segmentsOf, type SegmentKind } from './marked-text.js';
import type { NotesMode } from '../model/post.js';

export interface PlatformTextOptions {
  readonly mode: NotesMode;
  /** How links and references are written on this platform. */
  readonly markdown: MarkdownOptions;
  /** Whether a text fits one post, as the platform counts. */
  fits(text: string): boolean;
  /** The most posts the notes may take (1: the publisher posts one text per post). */
  readonly maxPosts: number;
  /** Where the rest can be read (the release page): added when notes are cut or left out, unless the text has it. */
  readonly moreUrl?: string;
}

export interface PlatformText {
  readonly texts: string[];
  /** Per text: its links, for platforms that carry them beside the text (Bluesky facets). */
  readonly links: TextLink[][];
}

/** A piece of a post: the user's own words (never dropped) or one block of notes (droppable). */
type Item = { readonly own: true; readonly rich: RichText } | { readonly own: false; readonly block: RenderedBlock; readonly group: number };

const ELLIPSIS = '…';

function items(text: string, opts: PlatformTextOptions): Item[] {
  const out: Item[] = [];
  segmentsOf(text).forEach((segment, group) => {
    const render: Record<SegmentKind, () => void> = {
      own: () => out.push({ own: true, rich: { text: segment.text, links: [] } }),
      'event-title': () => out.push({ own: true, rich: neutralizeReferences(segment.text, opts.markdown) }),
      'event-markdown': () => {
        if (opts.mode !== 'link-only') for (const block of renderMarkdown(segment.text, opts.markdown)) out.push({ own: false, block, group });
      },
      'authored-markdown': () => {
        for (const block of renderMarkdown(segment.text, { ...opts.markdown, references: 'keep' })) out.push({ own: false, block, group });
      },
    };
    render[segment.kind]();
  });
  return out;
}

function concat(parts: readonly RichText[]): RichText {
  let text = '';
  const links: TextLink[] = [];
  for (const part of parts) {
    for (const link of part.links) links.push({ start: link.start + text.length, end: link.end + text.length, url: link.url });
    text += part.text;
  }
  return { text, links };
}

/** Trims the ends, moving the links with the text. */
function trimmed(rich: RichText): RichText {
  const lead = rich.text.length - rich.text.trimStart().length;
  const text = rich.text.trim();
  return { text, links: rich.links.map((l) => ({ start: l.start - lead, end: l.end - lead, url: l.url })).filter((l) => l.start >= 0 && l.end <= text.length && l.end > l.start) };
}

/** One post from its items: consecutive blocks of one Markdown part are joined as the notes show them. */
function render(post: readonly Item[], ending = ''): RichText {
  const parts: RichText[] = [];
  let run: RenderedBlock[] = [];
  let runGroup = -1;
  const flush = () => {
    if (run.length > 0) parts.push(joinBlocks(run));
    run = [];
  };
  for (const item of post) {
    if (item.own) {
      flush();
      parts.push(item.rich);
    } else {
      if (item.group !== runGroup) flush();
      runGroup = item.group;
      run.push(item.block);
    }
  }
  flush();
  return trimmed(collapseBlankLines(concat([...parts, { text: ending, links: [] }])));
}

/** Notes left out leave the blank lines around them: at most one blank line in a row, links moved with the text. */
function collapseBlankLines(rich: RichText): RichText {
  const runs = [...rich.text.matchAll(/\n[ \t]*\n(?:[ \t]*\n)+/g)].map((m) => ({ end: m.index + m[0].length, removed: m[0].length - 2, start: m.index }));
  if (runs.length === 0) return rich;
  let text = '';
  let last = 0;
  for (const run of runs) {
    text += `${rich.text.slice(last, run.start)}\n\n`;
    last = run.end;
  }
  text += rich.text.slice(last);
  // A link never spans blank lines: it moves by what was removed before it.
  const shift = (at: number) => runs.filter((r) => r.end <= at).reduce((sum, r) => sum + r.removed, 0);
  return { text, links: rich.links.map((l) => ({ start: l.start - shift(l.start), end: l.end - shift(l.start), url: l.url })) };
}

/** Cuts a block too long for one post into pieces that fit, between words and never inside a link. */
function cutBlock(block: RenderedBlock, fits: (text: string) => boolean): RenderedBlock[] {
  const insideLink = (i: number) => block.links.some((l) => i > l.start && i < l.end);
  const pieces: RenderedBlock[] = [];
  let from = 0;
  while (from < block.text.length) {
    let end = from;
    for (const m of block.text.slice(from).matchAll(/\s+|$/g)) {
      const at = from + m.index;
      if (insideLink(at)) continue;
      if (!fits(block.text.slice(from, at) + ' ' + ELLIPSIS) && end > from) break;
      end = at;
      if (at >= block.text.length) break;
    }
    // One word longer than a post: it goes whole, and preflight's cap check says so.
    if (end === from) end = block.text.slice(from).search(/\s|$/) + from || block.text.length;
    const links = block.links.filter((l) => l.start >= from && l.end <= end).map((l) => ({ start: l.start - from, end: l.end - from, url: l.url }));
    pieces.push({ kind: block.kind, ...trimmed({ text: block.text.slice(from, end), links }) });
    from = end;
    while (from < block.text.length && /\s/.test(block.text[from]!)) from++;
  }
  return pieces.filter((p) => p.text.length > 0);
}

/** The release link on a line of its own, when the user's own words do not have it. */
function linkEnding(all: readonly Item[], opts: PlatformTextOptions): string {
  const own = all.filter((i): i is Extract<Item, { own: true }> => i.own).map((i) => i.rich.text).join('');
  return opts.moreUrl !== undefined && !own.includes(opts.moreUrl) ? `\n${opts.moreUrl}` : '';
}

const ELLIPSIS_ITEM: Item = { own: true, rich: { text: ` ${ELLIPSIS}`, links: [] } };

/** The chosen items in their order, with '…' right after the last block when some notes are left out. */
function cutPost(all: readonly Item[], chosen: ReadonlySet<Item>, replaced?: { original: Item; by: Item }): Item[] {
  const post: Item[] = [];
  let lastBlock = -1;
  for (const item of all) {
    const use = replaced?.original === item ? replaced.by : chosen.has(item) ? item : undefined;
    if (use === undefined) continue;
    post.push(use);
    if (!use.own) lastBlock = post.length;
  }
  const cut = replaced !== undefined || all.some((i) => !i.own && !chosen.has(i));
  if (cut && lastBlock >= 0) post.splice(lastBlock, 0, ELLIPSIS_ITEM);
  return post;
}

/** One post: every own word, then as many notes blocks from the start as fit, '…' and the link. */
function truncateTo(all: readonly Item[], opts: PlatformTextOptions): RichText {
  const ending = linkEnding(all, opts);
  const chosen = new Set<Item>(all.filter((i) => i.own));
  const fitsWith = (post: Item[]) => opts.fits(render(post, ending).text);
  for (const item of all) {
    if (item.own) continue;
    if (fitsWith(cutPost(all, new Set([...chosen, item])))) {
      chosen.add(item);
      continue;
    }
    // Nothing of the notes fits whole: keep the first block's first words.
    if (chosen.size === all.filter((i) => i.own).length) {
      const first = cutBlock(item.block, (t) => fitsWith(cutPost(all, chosen, { original: item, by: { ...item, block: { ...item.block, text: t, links: [] } } })))[0];
      if (first) return render(cutPost(all, chosen, { original: item, by: { ...item, block: first } }), ending);
    }
    break;
  }
  const cut = all.some((i) => !i.own && !chosen.has(i));
  return render(cutPost(all, chosen), cut ? ending : '');
}

/** Posts of a thread, filled in order; the last allowed post ends the notes when they run over. */
function threadOf(all: readonly Item[], opts: PlatformTextOptions): RichText[] {
  const pieces = all.flatMap((item): Item[] => {
    if (item.own || opts.fits(render([item]).text)) return [item];
    return cutBlock(item.block, opts.fits).map((block) => ({ ...item, block }));
  });
  const posts: Item[][] = [[]];
  for (const piece of pieces) {
    const current = posts[posts.length - 1]!;
    if (current.length === 0 || opts.fits(render([...current, piece]).text)) current.push(piece);
    else posts.push([piece]);
  }
  if (posts.length <= opts.maxPosts) return posts.map((post) => render(post));
  const head = posts.slice(0, opts.maxPosts - 1).map((post) => render(post));
  const rest = posts.slice(opts.maxPosts - 1).flat();
  return [...head, truncateTo(rest, opts)];
}

/** The texts this platform posts for one marked text (one, or a thread in `thread` mode). */
export function platformText(text: string, opts: PlatformTextOptions): PlatformText {
  const all = items(text, opts);
  const whole = render(all);
  let posts: RichText[];
  if (opts.mode === 'link-only') posts = [segmentsOf(text).some((s) => s.kind === 'event-markdown') ? render(all, linkEnding(all, opts)) : whole];
  else if (opts.fits(whole.text)) posts = [whole];
  else if (opts.mode === 'thread' && opts.maxPosts > 1) posts = threadOf(all, opts);
  else posts = [truncateTo(all, opts)];
  return { texts: posts.map((p) => p.text), links: posts.map((p) => [...p.links]) };
}
