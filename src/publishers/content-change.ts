/**
 * Same identity, different content: a re-run (or a later run of a queue) whose text is not
 * the text an earlier run posted under the same idempotency key — an earlier step produced
 * other text, or the post file was edited after it was posted. Every publisher handles it
 * the same way: the earlier post stands, nothing new is posted, and the step warns with the
 * old and the new text side by side.
 */

/** Longest text quoted in the warning; the rest is elided. */
const MAX_QUOTED = 200;

function quoted(text: string): string {
  const oneLine = text.replace(/\r?\n/g, ' ⏎ ');
  return `“${oneLine.length > MAX_QUOTED ? `${oneLine.slice(0, MAX_QUOTED - 1)}…` : oneLine}”`;
}

/**
 * The warning for a post already made under this key with other text. `where` links the
 * existing post when known; `earlier` is its text when the platform or the ledger can tell.
 */
export function contentChangedWarning(where: string | undefined, earlier: string | undefined, now: string): string {
  const at = where ? ` (${where})` : '';
  const before = earlier !== undefined ? quoted(earlier) : '(its text is not known here)';
  return [
    `an earlier run already posted this post${at} with other text; that post stands and nothing new was posted.`,
    `  posted: ${before}`,
    `  now:    ${quoted(now)}`,
    "To post the new text as a separate post, give it its own identity: a new 'idempotency-key' (or, in a post file, a new 'id' or a new file).",
  ].join('\n');
}
