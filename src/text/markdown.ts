/**
 * GitHub-flavoured Markdown (release notes, pull request bodies) made into plain text for
 * social platforms: blocks of text (the unit a thread is split on), links kept as spans beside
 * the text, and GitHub references neutralised so that a post never tags a stranger.
 *
 * Parsed by mdast-util-from-markdown with the GFM extensions (micromark-extension-gfm,
 * mdast-util-gfm): the unified collective's parser, CommonMark and GFM compliant (tables,
 * autolinks, strikethrough, task lists, footnotes), typed, small, maintained — and a real
 * parser: regexes cannot tell a `#123` in a code span from one in prose, or a link's label
 * from its URL. Regexes are used here only inside text nodes, on words.
 */
import type { List, ListItem, Nodes, PhrasingContent, Root, RootContent, Table } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { isGeneratedChange, isNewContributor, newContributorsBlock, shapedChange } from './generated-notes.js';
import { neutralizeReferences, RichTextBuilder, type MarkdownOptions, type RenderedBlock, type RichText } from './rich-text.js';

export { joinBlocks, neutralizeReferences, type MarkdownOptions, type RenderedBlock, type RichText, type TextLink } from './rich-text.js';

/** HTML that opens a block whose content is never shown (`<details>`), and its end. */
const DETAILS_OPEN = /<details\b/gi;
const DETAILS_CLOSE = /<\/details\s*>/gi;

type Block = RenderedBlock['kind'];

class Renderer {
  readonly blocks: RenderedBlock[] = [];
  private hidden = 0;
  private readonly definitions = new Map<string, string>();

  constructor(private readonly opts: MarkdownOptions) {}

  render(root: Root): RenderedBlock[] {
    for (const node of root.children) if (node.type === 'definition') this.definitions.set(node.identifier.toLowerCase(), node.url);
    this.children(root.children, 0);
    return this.blocks;
  }

  private push(kind: Block, rich: RichText): void {
    if (rich.text.length > 0) this.blocks.push({ kind, text: rich.text, links: rich.links });
  }

  private children(nodes: readonly RootContent[], depth: number): void {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      if (node.type === 'html') {
        this.html(node.value);
        continue;
      }
      if (this.hidden > 0) continue;
      // GitHub's generated "New Contributors" section becomes one line.
      if (node.type === 'heading' && /^new contributors$/i.test(plain(node.children).trim())) {
        const list = nodes[i + 1];
        if (list?.type === 'list' && list.children.every((item) => isNewContributor(plain(item.children)))) {
          this.push('paragraph', newContributorsBlock(list.children.map((item) => plain(item.children)), this.opts));
          i++;
          continue;
        }
      }
      this.block(node, depth);
    }
  }

  /** Block HTML: comments and other markup are dropped, text kept; `<details>` hides what it holds. */
  private html(value: string): void {
    const opens = value.match(DETAILS_OPEN)?.length ?? 0;
    const closes = value.match(DETAILS_CLOSE)?.length ?? 0;
    const wasHidden = this.hidden > 0;
    this.hidden = Math.max(0, this.hidden + opens - closes);
    if (wasHidden || opens > 0) return;
    const text = value
      .replace(/<!--[\s\S]*?(?:-->|$)/g, '')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (text) this.push('paragraph', { text: decodeEntities(text), links: [] });
  }

  private block(node: RootContent, depth: number): void {
    switch (node.type) {
      case 'heading':
        return this.push('heading', this.inline(node.children));
      case 'paragraph':
        return this.paragraph(node.children);
      case 'list':
        return this.list(node, depth);
      case 'code':
        return this.push('code', { text: stripControls(node.value).replace(/\s+$/, ''), links: [] });
      case 'blockquote': {
        const inner = new Renderer(this.opts);
        inner.definitions.forEach((url, id) => this.definitions.set(id, url));
        inner.children(node.children, depth);
        const quoted = joinInner(inner.blocks);
        return this.push('quote', quoted);
      }
      case 'table':
        return this.table(node);
      default:
        // thematic breaks, definitions, footnote definitions, front matter: nothing to show.
        return;
    }
  }

  private paragraph(children: PhrasingContent[]): void {
    const text = plain(children).trim();
    // GitHub's generated "**Full Changelog**: <compare link>".
    const changelog = /^full changelog:?\s*(https:\/\/\S+)$/i.exec(text);
    if (changelog) {
      const b = new RichTextBuilder();
      if (this.opts.links === 'facets') b.link('Full changelog', changelog[1]!);
      else b.add('Full changelog: ').link(changelog[1]!, changelog[1]!);
      return this.push('paragraph', b.build());
    }
    this.push('paragraph', this.inline(children));
  }

  private list(list: List, depth: number): void {
    list.children.forEach((item: ListItem, i) => {
      const marker = list.ordered ? `${(list.start ?? 1) + i}. ` : '• ';
      const indent = '  '.repeat(depth);
      const [first, ...rest] = item.children;
      const generated = first?.type === 'paragraph' ? plain(first.children) : '';
      if (isGeneratedChange(generated)) {
        const shaped = shapedChange(generated, this.opts);
        this.push('item', prefixed(`${indent}${marker}`, shaped));
      } else if (first?.type === 'paragraph') {
        this.push('item', prefixed(`${indent}${marker}`, this.inline(first.children)));
      } else if (first !== undefined) {
        this.block(first, depth + 1);
      }
      for (const child of rest) {
        if (child.type === 'list') this.list(child, depth + 1);
        else this.block(child, depth + 1);
      }
    });
  }

  private table(table: Table): void {
    for (const row of table.children) {
      const b = new RichTextBuilder();
      row.children.forEach((cell, i) => {
        if (i > 0) b.add(' · ');
        b.append(this.inline(cell.children));
      });
      this.push('paragraph', b.build());
    }
  }

  /** Inline content: words, links as spans, GitHub references neutralised. */
  inline(nodes: readonly PhrasingContent[]): RichText {
    const b = new RichTextBuilder();
    this.phrasing(nodes, b);
    return b.build();
  }

  private phrasing(nodes: readonly PhrasingContent[], b: RichTextBuilder): void {
    for (const node of nodes) {
      switch (node.type) {
        case 'text':
          b.append(this.opts.references === 'keep' ? { text: words(node.value), links: [] } : neutralizeReferences(words(node.value), this.opts));
          break;
        case 'inlineCode':
          b.add(words(node.value));
          break;
        case 'emphasis':
        case 'strong':
        case 'delete':
          this.phrasing(node.children, b);
          break;
        case 'break':
          b.newline();
          break;
        case 'link':
          this.link(node.children, node.url, b);
          break;
        case 'linkReference': {
          const url = this.definitions.get(node.identifier.toLowerCase());
          if (url !== undefined) this.link(node.children, url, b);
          else this.phrasing(node.children, b);
          break;
        }
        default:
          // images, footnote references and inline HTML tags: not text a post shows.
          break;
      }
    }
  }

  private link(children: readonly PhrasingContent[], rawUrl: string, b: RichTextBuilder): void {
    const url = absoluteUrl(rawUrl, this.opts.repositoryUrl);
    const label = words(plain(children)).trim();
    if (url === undefined) {
      b.add(label);
      return;
    }
    if (this.opts.links === 'facets' || label === '' || sameAsUrl(label, url)) b.link(label === '' || sameAsUrl(label, url) ? displayUrl(label, url) : label, url);
    else b.add(`${label} (`).link(url, url).add(')');
  }
}

/** A label that only repeats the link (`https://x.y/z`, `x.y/z`). */
function sameAsUrl(label: string, url: string): boolean {
  const bare = (s: string) => s.replace(/^https?:\/\//i, '').replace(/\/$/, '');
  return bare(label) === bare(url);
}

/** The URL shown for a link whose label is the URL: as the author wrote it when it names the same place. */
function displayUrl(label: string, url: string): string {
  return label !== '' && sameAsUrl(label, url) ? label : url;
}

/** http(s) URLs as they are; a relative link is resolved in the repository; anything else (javascript:, mailto:) is no link. */
function absoluteUrl(raw: string, repositoryUrl: string): string | undefined {
  if (/^https?:\/\//i.test(raw)) return raw;
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw) || raw.startsWith('//') || raw.startsWith('#') || raw === '') return undefined;
  try {
    return new URL(raw.replace(/^\.?\//, ''), `${repositoryUrl}/blob/HEAD/`).href;
  } catch {
    return undefined;
  }
}

/** The words of inline nodes, without markup (for labels and the generated notes' lines). */
function plain(nodes: readonly Nodes[]): string {
  return nodes
    .map((node) => {
      if (node.type === 'text' || node.type === 'inlineCode') return node.value;
      if (node.type === 'break') return ' ';
      if (node.type === 'link' && node.children.length === 0) return node.url;
      if ('children' in node) return plain(node.children as Nodes[]);
      return '';
    })
    .join('');
}

const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function stripControls(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROLS, '');
}

/** Soft line breaks and runs of spaces in prose are one space; control characters go. */
function words(text: string): string {
  return stripControls(text).replace(/\s+/g, ' ');
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code < 0x110000 && !(code >= 0xd800 && code < 0xe000) ? String.fromCodePoint(code) : '';
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** A list marker (and its indent) before an item's text: kept as is, never trimmed. */
function prefixed(prefix: string, rich: RichText): RichText {
  return { text: `${prefix}${rich.text}`, links: rich.links.map((l) => ({ start: l.start + prefix.length, end: l.end + prefix.length, url: l.url })) };
}

/** A quote's blocks as one text, a line each. */
function joinInner(blocks: readonly RenderedBlock[]): RichText {
  const b = new RichTextBuilder();
  blocks.forEach((block, i) => {
    if (i > 0) b.newline();
    b.append(block);
  });
  return b.build();
}

/** The Markdown's syntax tree; undefined if it cannot be read. */
function parsed(markdown: string): Root | undefined {
  try {
    return fromMarkdown(stripControls(markdown), { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  } catch {
    // micromark does not throw on any input that we know of; if it ever does, the notes are left out rather than posted raw.
    return undefined;
  }
}

/** Renders Markdown into blocks, in order. Never throws: text it cannot read is left out. */
export function renderMarkdown(markdown: string, opts: MarkdownOptions): RenderedBlock[] {
  const root = parsed(markdown);
  return root === undefined ? [] : new Renderer(opts).render(root);
}

export interface MarkdownImage {
  url: string;
  /** The alt text as written ('' when there is none). */
  alt: string;
}

/** `<img …>` tags in HTML, each with its `src` and `alt` attributes (quoted either way). */
const IMG_TAG = /<img\b[^>]*>/gi;
function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return match ? decodeEntities(match[1] ?? match[2] ?? match[3] ?? '') : undefined;
}

/**
 * The images of a Markdown text in order: `![alt](url)`, reference images and the `<img>`
 * tags GitHub writes for pasted screenshots — never those in code, in HTML comments or in
 * `<details>` (what the rendered text leaves out).
 */
export function markdownImages(markdown: string): MarkdownImage[] {
  const root = parsed(markdown);
  if (root === undefined) return [];
  const definitions = new Map<string, string>();
  const images: MarkdownImage[] = [];
  let hidden = 0;
  const visit = (node: Nodes): void => {
    if (node.type === 'definition') definitions.set(node.identifier.toLowerCase(), node.url);
    if (node.type === 'html') {
      const value = node.value.replace(/<!--[\s\S]*?(?:-->|$)/g, '');
      const opens = value.match(DETAILS_OPEN)?.length ?? 0;
      if (hidden === 0 && opens === 0) {
        for (const tag of value.match(IMG_TAG) ?? []) {
          const src = attribute(tag, 'src');
          if (src) images.push({ url: src, alt: attribute(tag, 'alt') ?? '' });
        }
      }
      hidden = Math.max(0, hidden + opens - (value.match(DETAILS_CLOSE)?.length ?? 0));
      return;
    }
    if (hidden > 0) return;
    if (node.type === 'image') images.push({ url: node.url, alt: node.alt ?? '' });
    if (node.type === 'imageReference') images.push({ url: `\u0000${node.identifier.toLowerCase()}`, alt: node.alt ?? '' });
    if ('children' in node) for (const child of node.children) visit(child);
  };
  visit(root);
  // Reference images take their URL from a definition, which may come after them.
  return images.flatMap((image) => {
    if (!image.url.startsWith('\u0000')) return [image];
    const url = definitions.get(image.url.slice(1));
    return url === undefined ? [] : [{ ...image, url }];
  });
}
