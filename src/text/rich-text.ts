/**
 * Text with links beside it — what rendered Markdown is before a platform sees it — and the
 * neutralising of GitHub references: an `@handle` or `#123` copied from GitHub means someone
 * or something on GitHub, never an account on the platform the post goes to (on Bluesky and
 * Mastodon `@name` is someone else; on X a mention pings).
 */

/** A link in a rendered text: UTF-16 offsets [start, end) into `text`, and where it points. */
export interface TextLink {
  readonly start: number;
  readonly end: number;
  readonly url: string;
}

export interface RichText {
  readonly text: string;
  readonly links: readonly TextLink[];
}

/** One block of rendered notes, the unit a thread is split on and truncation keeps or drops. */
export interface RenderedBlock extends RichText {
  readonly kind: 'heading' | 'paragraph' | 'item' | 'code' | 'quote';
}

export interface MarkdownOptions {
  /**
   * 'facets': a link shows its label and the URL lives only in `links` (Bluesky link facets).
   * 'inline': platforms without links in text: `label (https://…)`, or the URL alone when the
   * label is the URL; `links` lists the URL spans.
   */
  readonly links: 'facets' | 'inline';
  /** e.g. https://github.com/octo/app — for #123 references and relative links. */
  readonly repositoryUrl: string;
  /** e.g. https://github.com — for @handle profile links and owner/repo#123 references. */
  readonly serverUrl: string;
  /** 'keep': the author's own Markdown (a post file), whose @mentions are meant. Default: neutralise. */
  readonly references?: 'neutralize' | 'keep';
}

/** Builds a RichText piece by piece; spaces never double where two pieces meet. */
export class RichTextBuilder {
  private text = '';
  private readonly links: TextLink[] = [];

  add(piece: string): this {
    this.text += this.text.endsWith(' ') && piece.startsWith(' ') ? piece.slice(1) : piece;
    return this;
  }

  newline(): this {
    this.text = `${this.text.replace(/ +$/, '')}\n`;
    return this;
  }

  link(label: string, url: string): this {
    this.add(label === '' ? url : label);
    const shown = label === '' ? url : label;
    if (/^https?:\/\//i.test(url)) this.links.push({ start: this.text.length - shown.length, end: this.text.length, url });
    return this;
  }

  append(rich: RichText): this {
    const before = this.text.length;
    this.add(rich.text);
    const shift = this.text.length - rich.text.length - before;
    const at = before + shift;
    for (const l of rich.links) this.links.push({ start: l.start + at, end: l.end + at, url: l.url });
    return this;
  }

  /** The text with its ends trimmed (links moved with it; a link cut by the trim is dropped). */
  build(): RichText {
    const lead = this.text.length - this.text.trimStart().length;
    const text = this.text.trim();
    const links = this.links.map((l) => ({ start: l.start - lead, end: l.end - lead, url: l.url })).filter((l) => l.start >= 0 && l.end <= text.length && l.start < l.end);
    return { text, links };
  }
}

/**
 * `@handle` as GitHub reads it: letters, digits and single hyphens, at most 39, not inside a
 * word or an email address; `@org/team` for a team.
 */
const MENTION = /(?<![\w@.+-])@(?<login>[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})(?:\/(?<team>[A-Za-z0-9][\w.-]*))?(?![\w-])/g;
/** `#123`, `GH-123` and `owner/repo#123`, not inside a word or a URL. */
const ISSUE = /(?<![\w/#&-])(?:(?<repo>[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)#|#|GH-)(?<number>\d+)(?![\w-])/g;

/** Neutralises GitHub references in plain text (a PR title, a release name, the words of notes). */
export function neutralizeReferences(text: string, opts: MarkdownOptions): RichText {
  const b = new RichTextBuilder();
  const found = [
    ...[...text.matchAll(MENTION)].map((m) => {
      const { login, team } = m.groups!;
      const shown = team ? `${login}/${team}` : login!;
      const url = team ? `${opts.serverUrl}/orgs/${login}/teams/${team}` : `${opts.serverUrl}/${login}`;
      return { index: m.index, length: m[0].length, shown, url };
    }),
    ...[...text.matchAll(ISSUE)].map((m) => {
      const { repo, number } = m.groups!;
      const shown = repo ? `${repo}#${number}` : `#${number}`;
      const url = repo ? `${opts.serverUrl}/${repo}/issues/${number}` : `${opts.repositoryUrl}/issues/${number}`;
      return { index: m.index, length: m[0].length, shown, url };
    }),
  ].sort((a, b) => a.index - b.index);
  let last = 0;
  for (const ref of found) {
    if (ref.index < last) continue;
    b.add(text.slice(last, ref.index));
    // Bluesky: a link to GitHub over the words; elsewhere the words alone, without the '@'.
    if (opts.links === 'facets') b.link(ref.shown, ref.url);
    else b.add(ref.shown);
    last = ref.index + ref.length;
  }
  b.add(text.slice(last));
  const built = b.build();
  // Keep the text's own outer spaces: it is a piece of a sentence.
  const lead = text.length - text.trimStart().length > 0 ? ' ' : '';
  const trail = text.length - text.trimEnd().length > 0 && text.trim() !== '' ? ' ' : '';
  return { text: `${lead}${built.text}${trail}`, links: built.links.map((l) => ({ ...l, start: l.start + lead.length, end: l.end + lead.length })) };
}

/**
 * Joins blocks the way a post shows them: a blank line between paragraphs, one newline after
 * a heading and between consecutive list items; links move with their text.
 */
export function joinBlocks(blocks: readonly RenderedBlock[]): RichText {
  let text = '';
  const links: TextLink[] = [];
  blocks.forEach((block, i) => {
    const previous = blocks[i - 1];
    if (previous !== undefined) text += (block.kind === 'item' && previous.kind === 'item') || previous.kind === 'heading' ? '\n' : '\n\n';
    for (const l of block.links) links.push({ start: l.start + text.length, end: l.end + text.length, url: l.url });
    text += block.text;
  });
  return { text, links };
}
