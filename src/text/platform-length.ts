/**
 * The length of a text as each platform counts it: graphemes, with links weighted where the
 * platform weighs them, and X's own rules for X. X's counter is a library of its own, loaded
 * (once) only when a run has an X target: call `prepareLengths` before `platformLength`.
 */
import { PLATFORM_LIMITS, type Platform } from '../model/platforms.js';
import { hasAtMostGraphemes, weightedLength } from './length.js';

let xLength: ((text: string) => number) | undefined;

/** Loads the counters the given platforms need; cheap when there is nothing to load. */
export async function prepareLengths(platforms: Iterable<Platform>): Promise<void> {
  if (xLength !== undefined || ![...platforms].includes('twitter')) return;
  // Eager mode keeps one bundle file while sparing runs without X the module's start-up.
  xLength = (await import('./x-length.js')).xWeightedLength;
}

export function platformLength(platform: Platform, text: string): number {
  if (platform === 'twitter') {
    if (xLength === undefined) throw new Error("X's text counter is not loaded: prepareLengths(['twitter']) must run first; this is a bug in the action, please report it");
    return xLength(text);
  }
  return weightedLength(text, PLATFORM_LIMITS[platform].urlWeight);
}

/** How the platform counts, for messages: "(every link counts as 23)". */
export function countingNote(platform: Platform): string {
  if (platform === 'twitter') return ' (as X counts: every link 23, most CJK characters and emoji 2)';
  const weight = PLATFORM_LIMITS[platform].urlWeight;
  return weight ? ` (every link counts as ${weight})` : '';
}

/** Whether a text fits one post on the platform: its length as the platform counts, and its byte cap. */
export function fitsPlatform(platform: Platform, text: string): boolean {
  const limits = PLATFORM_LIMITS[platform];
  if (limits.maxTextBytes !== undefined && Buffer.byteLength(text, 'utf8') > limits.maxTextBytes) return false;
  // Counted only as far as the cap where links weigh what they are.
  if (limits.urlWeight === undefined) return hasAtMostGraphemes(text, limits.maxGraphemes);
  return platformLength(platform, text) <= limits.maxGraphemes;
}
