/** Creates the publishers a run needs, and only those: Bluesky's SDK is loaded only when used. */
import type { Settings } from '../inputs.js';
import { LetmepostPublisher } from './letmepost/publisher.js';
import type { Log, Publisher, PublisherKind } from './types.js';

export interface PublisherEnv {
  deadline: number;
  log: Log;
}

export async function createPublishers(kinds: Set<PublisherKind>, settings: Settings, env: PublisherEnv): Promise<Map<PublisherKind, Publisher>> {
  const publishers = new Map<PublisherKind, Publisher>();
  const requestTimeoutMs = settings.requestTimeoutSeconds * 1000;
  for (const kind of kinds) {
    switch (kind) {
      case 'letmepost':
        publishers.set(kind, new LetmepostPublisher({ token: settings.letmepost.token ?? '', apiUrl: settings.letmepost.apiUrl, requestTimeoutMs, deadline: env.deadline, log: env.log }));
        break;
      case 'bluesky': {
        // Eager mode keeps one bundle file while sparing letmepost-only runs the cost of
        // evaluating @atproto/api (~100 ms).
        const { BlueskyPublisher } = await import(/* webpackMode: "eager" */ './bluesky/publisher.js');
        publishers.set(
          kind,
          new BlueskyPublisher({
            identifier: settings.bluesky.identifier ?? '',
            appPassword: settings.bluesky.appPassword ?? '',
            service: settings.bluesky.service,
            requestTimeoutMs,
            deadline: env.deadline,
            log: env.log,
          }),
        );
        break;
      }
      case 'mastodon': {
        const { MastodonPublisher } = await import(/* webpackMode: "eager" */ './mastodon/publisher.js');
        publishers.set(kind, new MastodonPublisher({ server: settings.mastodon.server ?? '', token: settings.mastodon.token ?? '', requestTimeoutMs, deadline: env.deadline, log: env.log }));
        break;
      }
    }
  }
  return publishers;
}
