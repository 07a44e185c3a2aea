/** Creates the publishers a run needs, and only those: Bluesky's SDK is loaded only when used. */
import { InputError } from '../errors.js';
import type { Settings } from '../inputs.js';
import { LetmepostPublisher } from './letmepost.js';
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
      default:
        throw new InputError('publisher', `Input 'publisher': the ${kind} publisher is not available in this version`);
    }
  }
  return publishers;
}
