/**
 * Every publisher, one line each. The orchestration reads descriptors and never names a
 * publisher; a publisher's SDK is loaded only when a run uses it.
 */
import { bluesky, type BlueskySettings } from './bluesky/descriptor.js';
import { letmepost, type LetmepostSettings } from './letmepost/descriptor.js';
import { mastodon, type MastodonSettings } from './mastodon/descriptor.js';
import { x, type XSettings } from './x/descriptor.js';
import type { Platform } from '../model/platforms.js';
import type { Publisher, PublisherDescriptor, PublisherEnv, PublisherKind } from './types.js';

/** Each publisher's own settings, under its kind. */
export interface PublisherSettings {
  letmepost: LetmepostSettings;
  bluesky: BlueskySettings;
  mastodon: MastodonSettings;
  x: XSettings;
}

/** The direct publishers first: a target goes to the first that serves it. */
export const PUBLISHERS: readonly PublisherDescriptor<never>[] = [bluesky, mastodon, x, letmepost];

export function descriptorOf(kind: PublisherKind): PublisherDescriptor<never> {
  return PUBLISHERS.find((d) => d.kind === kind)!;
}

/** The publisher a target goes through: its account says which. */
export function descriptorFor(target: { platform: Platform; account: string }): PublisherDescriptor<never> {
  return PUBLISHERS.find((d) => d.serves(target))!;
}

function ownSettings(kind: PublisherKind, settings: PublisherSettings): never {
  return settings[kind] as never;
}

/** Every publisher's secrets, whether or not the run uses it: the log masks them all. */
export function publisherSecrets(settings: PublisherSettings): Array<string | undefined> {
  return PUBLISHERS.flatMap((d) => d.secrets(ownSettings(d.kind, settings)));
}

/** Missing credentials of the publishers a run uses, as input errors. */
export function credentialErrors(kinds: Iterable<PublisherKind>, settings: PublisherSettings) {
  return [...kinds].flatMap((kind) => descriptorOf(kind).credentialErrors(ownSettings(kind, settings)));
}

/** Creates the publishers a run needs, and only those. */
export async function createPublishers(kinds: Iterable<PublisherKind>, settings: PublisherSettings, env: PublisherEnv): Promise<Map<PublisherKind, Publisher>> {
  const publishers = new Map<PublisherKind, Publisher>();
  for (const kind of kinds) publishers.set(kind, await descriptorOf(kind).create(ownSettings(kind, settings), env));
  return publishers;
}
