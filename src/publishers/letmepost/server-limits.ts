/**
 * How long the server may work on one request. Its handler has no overall time limit and
 * no in-flight lock, so this bound is what the publish request waits for and how long a
 * request without an answer may still be running there.
 */
import type { PlannedTarget } from '../types.js';

/**
 * The server's own time limits (apps/api `platformFetch`: 30 s per platform call, no retries,
 * no limit on the handler as a whole): a Bluesky text post is a login and a write, a first
 * comment one more write, every image one more upload (one after another), and a video is
 * uploaded and processed for up to ~14 minutes. Plus a margin for the database.
 */
const PLATFORM_CALL_MS = 30_000;
const VIDEO_HANDLING_MS = 14 * 60_000;
const HANDLER_MARGIN_MS = 15_000;

/** How long the server may take for this target, at most, when every platform call runs to its limit. */
export function handlerBoundMs(target: Pick<PlannedTarget, 'media' | 'firstComment'>): number {
  const images = target.media.filter((m) => m.kind === 'image').length;
  const video = target.media.some((m) => m.kind === 'video');
  return 2 * PLATFORM_CALL_MS + (target.firstComment !== undefined ? PLATFORM_CALL_MS : 0) + images * PLATFORM_CALL_MS + (video ? VIDEO_HANDLING_MS : 0) + HANDLER_MARGIN_MS;
}
