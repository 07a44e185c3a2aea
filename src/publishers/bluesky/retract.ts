/**
 * Retracting a Bluesky post: deleting every record it wrote — the posts of its thread and its
 * first comment. Their record keys are derived (records.ts) from the target's keys and its
 * anchor time, so they are found again without a list: the anchor comes from the record key
 * the ledger holds (a TID carries its time), else from the target as planned. A reply is taken
 * for part of the post only when it answers the part before it (the first comment: post 1),
 * so a record that merely shares a key can never be deleted. Replies are deleted before what
 * they answer; deleting what is already gone is no error, so a retract can run again.
 */
import { PublishError } from '../../errors.js';
import { blueskyPostUrl } from '../links.js';
import type { Log, PlannedTarget, RetractOutcome, TargetResult } from '../types.js';
import { POST_COLLECTION, type BlueskyClient, type Session } from './client.js';
import { anchorOf } from './records.js';
import { decodeTid, isValidTid, tidFromKey } from './tid.js';
import { isRecordNotFound } from './xrpc-errors.js';

interface Found {
  rkey: string;
  uri: string;
  /** The post it answers, when it is a reply. */
  parent?: string;
}

/** The anchor time behind a record key this target wrote: a TID's microseconds, in ms. */
export function anchorFromRecordKey(target: Pick<PlannedTarget, 'keys'>, rkey: string | undefined): number | undefined {
  if (rkey === undefined || !isValidTid(rkey)) return undefined;
  const anchor = Number(decodeTid(rkey).micros / 1000n);
  return tidFromKey(target.keys.parts[0]!, anchor) === rkey ? anchor : undefined;
}

async function read(client: BlueskyClient, session: Session, rkey: string, what: string): Promise<Found | undefined> {
  return client.xrpc<Found | undefined>(
    `${what}: reading record ${rkey}`,
    async () => {
      const res = await session.xrpc.getRecord(session.did, POST_COLLECTION, rkey);
      const parent = (res.value as { reply?: { parent?: { uri?: unknown } } }).reply?.parent?.uri;
      return { rkey, uri: res.uri, ...(typeof parent === 'string' ? { parent } : {}) };
    },
    { recover: (error) => (isRecordNotFound(error) ? { value: undefined } : undefined) },
  );
}

/** Every record the target wrote that is still there, in writing order. */
async function findRecords(client: BlueskyClient, session: Session, target: PlannedTarget, anchor: number, what: string): Promise<Found[]> {
  const parts = await Promise.all(target.keys.parts.map((key, i) => read(client, session, tidFromKey(key, anchor + i), what)));
  const found: Found[] = [];
  for (const [i, part] of parts.entries()) {
    if (part === undefined) {
      if (i === 0) continue; // post 1 deleted by hand: its replies still name it
      break;
    }
    const previous = parts[i - 1];
    if (i > 0 && part.parent !== (previous?.uri ?? `at://${session.did}/${POST_COLLECTION}/${tidFromKey(target.keys.parts[i - 1]!, anchor + i - 1)}`)) break;
    found.push(part);
  }
  // The first comment was written after the last post of the thread, and answers post 1.
  const posts = found.length > 0 ? parts.lastIndexOf(found[found.length - 1]) + 1 : 0;
  if (posts > 0) {
    const first = `at://${session.did}/${POST_COLLECTION}/${tidFromKey(target.keys.parts[0]!, anchor)}`;
    const comment = await read(client, session, tidFromKey(target.keys.firstComment, anchor + posts), what);
    if (comment && comment.parent === first) found.push(comment);
  }
  return found;
}

export async function retractRecords(client: BlueskyClient, log: Log, target: PlannedTarget, recorded: TargetResult | undefined): Promise<RetractOutcome> {
  const what = `${target.label} → bluesky`;
  const anchor = anchorFromRecordKey(target, recorded?.id) ?? anchorOf(target);
  if (anchor === undefined) throw new PublishError(`${what}: no stable time to find the record keys from (anchorTime is missing); this is a bug in the action, please report it`);
  const session = await client.session();
  const recordedDid = recorded?.uri !== undefined ? /^at:\/\/([^/]+)\//.exec(recorded.uri)?.[1] : undefined;
  if (recordedDid !== undefined && recordedDid !== session.did) {
    return { deleted: [], refused: true, kept: `it was posted as ${recordedDid}, and this run is logged in as ${session.did}; retract it with that account's 'bluesky-identifier'` };
  }
  const found = await findRecords(client, session, target, anchor, what);
  if (found.length === 0) return { deleted: [], kept: `no post of it is on ${session.handle ?? session.did} (deleted already?)` };
  const deleted: string[] = [];
  // Replies first: a thread never points at a deleted post while the rest still shows.
  for (const record of [...found].reverse()) {
    log.info(`${what}: com.atproto.repo.deleteRecord rkey ${record.rkey}`);
    await client.xrpc(`${what}: deleting ${record.uri}`, () => session.xrpc.deleteRecord({ repo: session.did, collection: POST_COLLECTION, rkey: record.rkey }), { write: true });
    deleted.push(blueskyPostUrl(record.uri) ?? record.uri);
  }
  return { deleted: deleted.reverse() };
}
