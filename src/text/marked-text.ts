/**
 * A post text whose parts came from elsewhere, marked while the post is still the same for
 * every target, so that planning can render each part for each target's platform:
 * - event Markdown (`{{ release.body }}`, `{{ pull_request.body }}`): rendered to plain text,
 *   GitHub references neutralised, shortened or threaded as `release-notes` says;
 * - an event's one-line text (`{{ pull_request.title }}`, `{{ release.name }}`): GitHub
 *   references neutralised — nobody is tagged by a PR title;
 * - authored Markdown (a post file with `format: markdown`): rendered, its mentions kept —
 *   the author wrote them and a reviewer read them.
 * The marks are Unicode noncharacters (U+FDD0…U+FDD3), which are for a program's internal use
 * and never interchanged: they are stripped from every value before it is marked, so text
 * from the event cannot forge or close a mark.
 */

export type SegmentKind = 'own' | 'event-markdown' | 'event-title' | 'authored-markdown';

export interface Segment {
  readonly kind: SegmentKind;
  readonly text: string;
}

const OPEN: Readonly<Record<Exclude<SegmentKind, 'own'>, string>> = {
  'event-markdown': '\uFDD0',
  'event-title': '\uFDD1',
  'authored-markdown': '\uFDD2',
};
const CLOSE = '\uFDD3';
const ANY_MARK = /[\uFDD0-\uFDD3]/g;
const HAS_MARK = /[\uFDD0-\uFDD3]/;
const KIND_OF: Readonly<Record<string, SegmentKind>> = Object.fromEntries(Object.entries(OPEN).map(([kind, mark]) => [mark, kind as SegmentKind]));

/** Marks `value` (stripped of any mark it carries) as a part of the given kind. */
export function mark(kind: Exclude<SegmentKind, 'own'>, value: string): string {
  return `${OPEN[kind]}${value.replace(ANY_MARK, '')}${CLOSE}`;
}

export function hasMarks(text: string): boolean {
  return HAS_MARK.test(text);
}

/** The text without its marks: every part as it was given (for messages that quote the file). */
export function unmarked(text: string): string {
  return text.replace(ANY_MARK, '');
}

/** The parts of a marked text, in order; empty own parts are left out. Marks do not nest. */
export function segmentsOf(text: string): Segment[] {
  const segments: Segment[] = [];
  let kind: SegmentKind = 'own';
  let start = 0;
  const push = (end: number) => {
    if (end > start) segments.push({ kind, text: text.slice(start, end) });
  };
  for (let i = 0; i < text.length; i++) {
    const opened = KIND_OF[text[i]!];
    if (opened === undefined && text[i] !== CLOSE) continue;
    push(i);
    kind = opened ?? 'own';
    start = i + 1;
  }
  push(text.length);
  return segments;
}
