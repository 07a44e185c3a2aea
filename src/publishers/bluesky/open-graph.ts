/**
 * Reads a link card's fields from an HTML page: Open Graph first (og:title,
 * og:description, og:image), then Twitter cards, then `<title>` and
 * `<meta name="description">`. Pure: the page is fetched elsewhere.
 */
import { graphemes } from '../../text/length.js';

export interface PageMeta {
  title?: string;
  description?: string;
  /** Absolute http(s) URL of the preview image. */
  image?: string;
}

export const MAX_TITLE_GRAPHEMES = 300;
export const MAX_DESCRIPTION_GRAPHEMES = 1000;

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', hellip: '…', mdash: '—', ndash: '–', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“', copy: '©' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function clean(value: string | undefined, maxGraphemes: number): string | undefined {
  if (value === undefined) return undefined;
  const text = decodeEntities(value).replace(/\s+/g, ' ').trim();
  if (!text) return undefined;
  const chars = graphemes(text);
  return chars.length <= maxGraphemes ? text : `${chars.slice(0, maxGraphemes - 1).join('').trimEnd()}…`;
}

/** Attributes of one tag, names lower-cased. */
function attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of tag.matchAll(/([^\s=/>"']+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const name = m[1]!.toLowerCase();
    if (!attrs.has(name)) attrs.set(name, m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function absoluteHttpUrl(value: string | undefined, base: string): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(decodeEntities(value.trim()), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export function parseOpenGraph(html: string, pageUrl: string): PageMeta {
  // Scripts and comments may contain tag-like text; styles never hold metadata.
  const doc = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '');
  const meta = new Map<string, string>();
  for (const m of doc.matchAll(/<meta\b([^>]*)>/gi)) {
    const attrs = attributes(m[1]!);
    const key = (attrs.get('property') ?? attrs.get('name') ?? attrs.get('itemprop'))?.toLowerCase();
    const content = attrs.get('content');
    if (key && content !== undefined && !meta.has(key)) meta.set(key, content);
  }
  const titleTag = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(doc)?.[1];
  const first = (...keys: string[]) => keys.map((k) => meta.get(k)).find((v) => v !== undefined && v.trim() !== '');

  const result: PageMeta = {};
  const title = clean(first('og:title', 'twitter:title') ?? titleTag, MAX_TITLE_GRAPHEMES);
  const description = clean(first('og:description', 'twitter:description', 'description'), MAX_DESCRIPTION_GRAPHEMES);
  const image = absoluteHttpUrl(first('og:image', 'og:image:url', 'og:image:secure_url', 'twitter:image', 'twitter:image:src'), pageUrl);
  if (title) result.title = title;
  if (description) result.description = description;
  if (image) result.image = image;
  return result;
}
