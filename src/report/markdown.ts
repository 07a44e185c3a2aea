/**
 * Untrusted text in Markdown (the job summary, the PR preview): shown as text, never as live
 * links, images, mentions, HTML or formatting. Code spans and fenced blocks are inert in
 * GitHub's renderer — no autolinks, mentions, issue references or HTML inside them — so every
 * value that did not come from the action's own code goes into one of them.
 */

/** Controls shown as symbols, bidi overrides replaced: what a reviewer sees is what is there. */
function visible(text: string): string {
  return text
    .replace(/[\x00-\x08\x0A-\x1F\x7F-\x9F]/g, (c) => {
      const n = c.charCodeAt(0);
      return n < 0x20 ? String.fromCharCode(0x2400 + n) : n === 0x7f ? '\u2421' : '\uFFFD';
    })
    .replace(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '\uFFFD');
}

/** Inline text as a code span; `inTable` also escapes `|`, which splits table cells before code spans are read. */
export function mdCode(untrusted: string, inTable = false): string {
  let s = visible(untrusted);
  if (inTable) s = s.replace(/\|/g, '\\|');
  if (s === '') return '';
  if (s.trim() === '') return `\`${s.replace(/ /g, '\u00A0')}\``;
  const longest = Math.max(0, ...Array.from(s.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(s) ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** Text of several lines as a fenced block (`lang` names its syntax): shown exactly, line by line. */
export function mdBlock(untrusted: string, lang = 'text'): string {
  const lines = untrusted.split(/\r\n|\r|\n/).map(visible);
  const longest = Math.max(2, ...lines.flatMap((l) => Array.from(l.matchAll(/`+/g), (m) => m[0].length)));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${lines.join('\n')}\n${fence}`;
}

/** A web link from a server's answer: a live link only for a plain http(s) URL, else shown as code. */
export function mdLink(url: string, inTable = false): string {
  if (!isPlainWebUrl(url)) return mdCode(url, inTable);
  const label = url.replace(/^https?:\/\//, '');
  return `[${mdCode(label, inTable)}](${url})`;
}

/** An http(s) URL with nothing that could break out of a Markdown link or a shell word. */
export function isPlainWebUrl(url: string): boolean {
  if (!/^https?:\/\/[^\s<>()[\]"'`\\|{}^$;]+$/.test(url)) return false;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}
