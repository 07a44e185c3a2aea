/**
 * Text that did not come from the action's own code (file names, PR titles, server answers,
 * page titles) must never act as a workflow command when it reaches the log. The runner
 * (actions/runner) reads commands line by line: a line ends at \n, \r or \r\n; after .NET
 * whitespace a line starting with `::` is a command; `##[` anywhere in a line is a (legacy)
 * command; its string matching is ICU's, where invisible and combining characters can hide
 * or reveal a `:`. `test/support/runner-log.ts` models those rules and the tests prove, through
 * it, that no neutralized text is a command in any position of a line.
 */

/** One line of text, made inert and readable (line breaks and controls shown as symbols). */
export function neutralize(untrusted: string): string {
  let s = String(untrusted)
    // Line breaks would start new lines; ESC and the other C0/C1 controls drive the log
    // viewer's ANSI handling or hide text: all are shown as control pictures (tab stays).
    .replace(/[\x00-\x08\x0A-\x1F\x7F-\x9F]/g, (c) => {
      const n = c.charCodeAt(0);
      return n < 0x20 ? String.fromCharCode(0x2400 + n) : n === 0x7f ? '\u2421' : '\uFFFD';
    })
    // Bidi controls can disguise a file name.
    .replace(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '\uFFFD')
    // `##[` anywhere is a legacy command: a backslash before its `[`.
    .replace(/##(?=\[)/g, '##\\')
    // A `:` first (after whitespace) could be a line-initial `::`; a `[` or `#[` first could
    // finish a `##[` begun just before the text.
    .replace(/^[\s\u0085]*(?=:)/, '$&\\')
    .replace(/^#?(?=\[)/, '$&\\');
  // Annotations put the text right after `::` (and a title right before `::`): under ICU a
  // leading mark that clings to that `:`, or a trailing character that clings to the next
  // one, hides the separator and the annotation is lost. U+25CC is the usual stand-in base.
  // ASCII text has neither (and skips starting ICU's segmenter).
  // Only the characters at each end matter, and an ASCII one (controls are gone by now) never
  // joins a cluster with a `:`.
  if (/[^\x00-\x7F]/.test(s)) {
    if (/^\p{M}/u.test(s) || (s.charCodeAt(0) > 0x7f && !clusterBoundaryAfterColon(s))) s = `\u25CC${s}`;
    if (s.charCodeAt(s.length - 1) > 0x7f && !clusterBoundaryBeforeColon(s)) s = `${s}\u25CC`;
  }
  return s;
}

/** Text of several lines: each line made inert on its own, the action's own line breaks kept. */
export function neutralizeLines(text: string): string {
  return text.split(/\r\n|\r|\n/).map(neutralize).join('\n');
}

let clusters: Intl.Segmenter | undefined;

function segmenter(): Intl.Segmenter {
  clusters ??= new Intl.Segmenter('und', { granularity: 'grapheme' });
  return clusters;
}

/**
 * Whether a break between a `:` and the text falls right after the `:` (and below, before a
 * `:` after the text). Only the characters next to the `:` decide (UAX #29: a `:` is neither
 * Extend, ZWJ, Prepend, a regional indicator, Hangul nor an Indic consonant, so no rule looks
 * further), so only a few code units of each end are segmented, not the whole text.
 */
const EDGE = 8;

function clusterBoundaryAfterColon(s: string): boolean {
  return segmenter().segment(`:${s.slice(0, EDGE)}`).containing(0)?.segment === ':';
}

function clusterBoundaryBeforeColon(s: string): boolean {
  const end = s.slice(-EDGE);
  return segmenter().segment(`${end}:`).containing(end.length)?.segment === ':';
}
