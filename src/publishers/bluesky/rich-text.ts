/**
 * Facets (links, hashtags, mentions) of a post's text, with UTF-8 byte offsets as the
 * record needs them. Detection is @atproto/api's; mentions are resolved by the caller's
 * resolver, and a mention that does not resolve is dropped so it stays plain text (a facet
 * with an empty DID makes the PDS reject the whole post).
 */
import { RichText, type Facet } from '@atproto/api';

const MENTION = 'app.bsky.richtext.facet#mention';
const LINK = 'app.bsky.richtext.facet#link';

interface Feature {
  $type?: string;
  did?: string;
  uri?: string;
  tag?: string;
}

function features(facet: Facet): Feature[] {
  return facet.features as Feature[];
}

/**
 * Detects facets without any network. Mention features carry the handle (without `@`) in
 * `did` until resolveMentions replaces it.
 */
export function detectFacets(text: string): Facet[] {
  const rt = new RichText({ text });
  rt.detectFacetsWithoutResolution();
  // A deep copy: plain data that the caller may change.
  return structuredClone(rt.facets ?? []);
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
