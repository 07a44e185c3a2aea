/**
 * Facets (links, hashtags, cashtags, mentions) of a post's text, with UTF-8 byte offsets as
 * the record needs them. Detection follows the Bluesky app's rules (those of @atproto/api's
 * RichText, which the tests compare it with on a corpus): what the app would turn into a link
 * or a tag while typing, this turns into the same facet. Mentions are resolved by the caller's
 * resolver, and a mention that does not resolve is dropped so it stays plain text (a facet
 * with an empty DID makes the PDS reject the whole post).
 */
import TLDS from 'tlds';
import { countGraphemes } from '../../text/length.js';
import type { TextLink } from '../../text/rich-text.js';

const MENTION = 'app.bsky.richtext.facet#mention';
const LINK = 'app.bsky.richtext.facet#link';
const TAG = 'app.bsky.richtext.facet#tag';

interface Feature {
  $type?: string;
  did?: string;
  uri?: string;
  tag?: string;
}

/** app.bsky.richtext.facet: a feature over a byte range of the text. */
export interface Facet {
  $type?: 'app.bsky.richtext.facet';
  index: { byteStart: number; byteEnd: number };
  features: Feature[];
}

function features(facet: Facet): Feature[] {
  return facet.features;
}

let topLevelDomains: Set<string> | undefined;

/** Whether a name ends in a top-level domain of the IANA list (as written: the list is lower case, and so is the check). */
function endsInKnownTld(name: string): boolean {
  topLevelDomains ??= new Set(TLDS);
  const dot = name.lastIndexOf('.');
  return dot >= 0 && topLevelDomains.has(name.slice(dot + 1));
}

/** Zero-width and invisible characters that end a hashtag like a space does. */
const INVISIBLE = '\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2';
/** `@handle` after the start, a space or `(`; the handle ends at a word boundary (so a final `.` is not part of it). */
const MENTIONS = /(?<lead>^|\s|\()@(?<handle>[a-zA-Z0-9.-]+)\b/g;
/** A link with its scheme, or a bare domain name (checked against the TLD list) with whatever path follows it. */
const LINKS = /(?<lead>^|\s|\()(?<link>https?:\/\/\S+|(?<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*)/gim;
/** `#tag` after the start or a space; the tag has a character that is not a digit or punctuation, and no emoji selector first. */
const HASHTAGS = new RegExp(`(?<lead>^|\\s)[#＃](?<tag>(?!\\ufe0f)[^\\s${INVISIBLE}]*[^\\d\\s\\p{P}${INVISIBLE}]+[^\\s${INVISIBLE}]*)?`, 'gu');
/** `$TICKR`: a letter and up to four letters or digits, followed by an end, a space or closing punctuation. */
const CASHTAGS = /(?<lead>^|\s|\()\$(?<ticker>[A-Za-z][A-Za-z0-9]{0,4})(?=\s|$|[.,;:!?)"'\u2019])/gu;
const TRAILING_PUNCTUATION = /\p{P}+$/u;
const MAX_TAG_GRAPHEMES = 64;

/** Converts UTF-16 offsets of one text to UTF-8 byte offsets. */
function byteOffsets(text: string): (utf16: number) => number {
  // Plain ASCII: the offsets are the same.
  if (!/[^\x00-\x7f]/.test(text)) return (i) => i;
  return (i) => Buffer.byteLength(text.slice(0, i), 'utf8');
}

/**
 * Detects facets without any network, ordered by where they start. Mention features carry
 * the handle (without `@`) in `did` until applyMentions replaces it.
 */
export function detectFacets(text: string): Facet[] {
  const bytes = byteOffsets(text);
  const facet = (start: number, end: number, feature: Feature): Facet => ({ index: { byteStart: bytes(start), byteEnd: bytes(end) }, features: [feature] });
  const found: Facet[] = [];

  for (const m of text.matchAll(MENTIONS)) {
    const handle = m.groups!.handle!;
    if (!endsInKnownTld(handle) && !handle.endsWith('.test')) continue; // not a handle (test domains are for local networks)
    const at = m.index + m.groups!.lead!.length;
    found.push({ $type: 'app.bsky.richtext.facet', ...facet(at, at + 1 + handle.length, { $type: MENTION, did: handle }) });
  }

  for (const m of text.matchAll(LINKS)) {
    const written = m.groups!.link!;
    let uri = written;
    if (!/^http/i.test(written)) {
      const domain = m.groups!.domain;
      if (!domain || !endsInKnownTld(domain)) continue;
      uri = `https://${written}`;
    }
    const start = m.index + m.groups!.lead!.length;
    let end = start + written.length;
    // A sentence's final punctuation, and a closing parenthesis that opened outside the link, are not part of it.
    if (/[.,;:!?]$/.test(uri)) {
      uri = uri.slice(0, -1);
      end--;
    }
    if (uri.endsWith(')') && !uri.includes('(')) {
      uri = uri.slice(0, -1);
      end--;
    }
    found.push(facet(start, end, { $type: LINK, uri }));
  }

  for (const m of text.matchAll(HASHTAGS)) {
    const written = m.groups!.tag;
    if (!written) continue;
    const tag = written.trim().replace(TRAILING_PUNCTUATION, '');
    if (tag.length === 0 || (tag.length > MAX_TAG_GRAPHEMES && countGraphemes(tag) > MAX_TAG_GRAPHEMES)) continue;
    const hash = m.index + m.groups!.lead!.length;
    found.push(facet(hash, hash + 1 + tag.length, { $type: TAG, tag }));
  }

  for (const m of text.matchAll(CASHTAGS)) {
    const ticker = m.groups!.ticker!.toUpperCase();
    const dollar = m.index + m.groups!.lead!.length;
    found.push(facet(dollar, dollar + 1 + ticker.length, { $type: TAG, tag: `$${ticker}` }));
  }

  // Stable: facets starting at the same byte keep the order above.
  return found.sort((a, b) => a.index.byteStart - b.index.byteStart);
}

/**
 * Facets of a text whose links are known beside it (Markdown rendered to a label with a
 * link): those links — http(s) only — and whatever detection finds outside them.
 */
export function facetsWithLinks(text: string, links: readonly TextLink[] | undefined): Facet[] {
  const detected = detectFacets(text);
  const usable = (links ?? []).filter((l) => /^https?:\/\//i.test(l.url) && l.start >= 0 && l.end <= text.length && l.start < l.end);
  if (usable.length === 0) return detected;
  const bytes = byteOffsets(text);
  const given: Facet[] = usable.map((l) => ({ $type: 'app.bsky.richtext.facet', index: { byteStart: bytes(l.start), byteEnd: bytes(l.end) }, features: [{ $type: LINK, uri: l.url }] }));
  const overlaps = (f: Facet) => given.some((g) => f.index.byteStart < g.index.byteEnd && g.index.byteStart < f.index.byteEnd);
  return [...given, ...detected.filter((f) => !overlaps(f))].sort((a, b) => a.index.byteStart - b.index.byteStart);
}

/** Handles mentioned in the facets, lower-cased, in order of appearance, once each. */
export function mentionedHandles(facets: Facet[]): string[] {
  const handles = facets.flatMap((f) => features(f).filter((x) => x.$type === MENTION && x.did).map((x) => x.did!.toLowerCase()));
  return [...new Set(handles)];
}

/** The first link of the text, as Bluesky detects it (bare domains gain https://). */
export function firstLink(facets: Facet[]): string | undefined {
  for (const facet of facets) for (const f of features(facet)) if (f.$type === LINK && f.uri) return f.uri;
  return undefined;
}

/**
 * Replaces each mention's handle with the DID from `dids` (keyed by lower-cased handle).
 * A facet whose mention has no DID is dropped; its handle is listed in `unresolved`.
 */
export function applyMentions(facets: Facet[], dids: ReadonlyMap<string, string | undefined>): { facets: Facet[]; unresolved: string[] } {
  const unresolved: string[] = [];
  const kept: Facet[] = [];
  for (const facet of facets) {
    const copy = structuredClone(facet);
    let ok = true;
    for (const f of features(copy)) {
      if (f.$type !== MENTION) continue;
      const handle = (f.did ?? '').toLowerCase();
      const did = dids.get(handle);
      if (did && did.startsWith('did:')) f.did = did;
      else {
        ok = false;
        if (!unresolved.includes(handle)) unresolved.push(handle);
      }
    }
    if (ok) kept.push(copy);
  }
  return { facets: kept, unresolved };
}

/** For a dry run: mentions shown as the DID placeholder they will get at publish time. */
export function describeMentions(facets: Facet[]): Facet[] {
  return facets.map((facet) => {
    const copy = structuredClone(facet);
    for (const f of features(copy)) if (f.$type === MENTION) f.did = `<DID of @${f.did}, resolved when publishing>`;
    return copy;
  });
}
