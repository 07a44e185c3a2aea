import { AtpAgent, XRPCError } from '@atproto/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedPds, type SharedPds, type TestAccount } from '../support/shared-pds.js';

// A valid TID record key (13 chars, base32-sortable, first char 2–j).
const RKEY = '3l4qzvbxbx22a';
const IMAGE_RKEY = '3l4qzvbxbx23a';
const CREATED_AT = '2024-09-01T12:00:00.000Z';

// 1×1 opaque PNG.
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

function post(text: string) {
  return { $type: 'app.bsky.feed.post', text, createdAt: CREATED_AT };
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to be rejected');
}

describe("the run's shared test PDS", () => {
  let pds: SharedPds;
  let alice: TestAccount;
  let bob: TestAccount;
  let agent: AtpAgent;

  beforeAll(async () => {
    pds = await sharedPds();
    alice = await pds.createAccount('alice');
    bob = await pds.createAccount('bob');
    agent = new AtpAgent({ service: pds.url });
  });

  it('serves on the IPv4 loopback address only', () => {
    expect(pds.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(pds.plcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates accounts with .test handles and an app password that differs from the main one', () => {
    expect(alice.handle).toBe(`alice-${pds.namespace}.test`);
    expect(alice.did).toMatch(/^did:plc:/);
    expect(bob.did).not.toBe(alice.did);
    expect(alice.appPassword).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    expect(alice.appPassword).not.toBe(alice.password);
  });

  it('lets a client log in with the app password', async () => {
    await agent.login({ identifier: alice.handle, password: alice.appPassword });
    expect(agent.session?.did).toBe(alice.did);
  });

  it('creates a post with putRecord and swapRecord null at a new TID rkey', async () => {
    const res = await agent.com.atproto.repo.putRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      rkey: RKEY,
      record: post('hello from the harness'),
      swapRecord: null,
    });
    expect(res.success).toBe(true);
    expect(res.data.uri).toBe(`at://${alice.did}/app.bsky.feed.post/${RKEY}`);

    const stored = await pds.getRecord(res.data.uri);
    expect(stored?.cid).toBe(res.data.cid);
    expect(stored?.value.text).toBe('hello from the harness');
  });

  it('answers an identical putRecord with swapRecord null with the same cid and writes nothing new', async () => {
    const first = await pds.getRecord(`at://${alice.did}/app.bsky.feed.post/${RKEY}`);
    const again = await agent.com.atproto.repo.putRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      rkey: RKEY,
      record: post('hello from the harness'),
      swapRecord: null,
    });
    expect(again.success).toBe(true);
    expect(again.data.cid).toBe(first?.cid);

    const posts = await pds.listPosts(alice.did);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.rkey).toBe(RKEY);
  });

  it('rejects a different record at an existing rkey with swapRecord null as InvalidSwap', async () => {
    const err = await rejection(
      agent.com.atproto.repo.putRecord({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        rkey: RKEY,
        record: post('something else entirely'),
        swapRecord: null,
      }),
    );
    // @atproto/api throws the lexicon's subclass (InvalidSwapError extends XRPCError).
    expect(err).toBeInstanceOf(XRPCError);
    expect(err.status).toBe(400);
    expect(err.error).toBe('InvalidSwap');
    expect(err.message).toMatch(/^Record was at /);

    const stored = await pds.getRecord(`at://${alice.did}/app.bsky.feed.post/${RKEY}`);
    expect(stored?.value.text).toBe('hello from the harness');
  });

  it('returns undefined from getRecord for a record that does not exist', async () => {
    expect(await pds.getRecord(`at://${alice.did}/app.bsky.feed.post/3l4qzvbxbx2zz`)).toBeUndefined();
  });

  it('resolves a local .test handle to its DID', async () => {
    const res = await agent.resolveHandle({ handle: bob.handle });
    expect(res.data.did).toBe(bob.did);
  });

  it('accepts an uploaded PNG blob and a post that embeds it as an image', async () => {
    const upload = await agent.com.atproto.repo.uploadBlob(new Uint8Array(PNG_1X1), {
      encoding: 'image/png',
    });
    expect(upload.data.blob.mimeType).toBe('image/png');
    expect(upload.data.blob.size).toBe(PNG_1X1.length);

    const res = await agent.com.atproto.repo.putRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      rkey: IMAGE_RKEY,
      record: {
        ...post('with a picture'),
        embed: {
          $type: 'app.bsky.embed.images',
          images: [{ alt: 'one pixel', image: upload.data.blob, aspectRatio: { width: 1, height: 1 } }],
        },
      },
      swapRecord: null,
    });
    expect(res.success).toBe(true);

    const stored = await pds.getRecord(res.data.uri);
    expect(stored?.value.embed.images[0].image.ref.$link).toBe(upload.data.blob.ref.toString());
    expect(await pds.listPosts(alice.did)).toHaveLength(2);
  });

  it('refuses a login with a wrong password as AuthenticationRequired', async () => {
    const other = new AtpAgent({ service: pds.url });
    const err = await rejection(other.login({ identifier: bob.handle, password: 'not-the-password' }));
    expect(err).toBeInstanceOf(XRPCError);
    expect(err.status).toBe(401);
    expect(err.error).toBe('AuthenticationRequired');
  });

  it('gives every file that shares it handles of its own', async () => {
    const other = await sharedPds();
    expect(other.url).toBe(pds.url);
    expect(other.namespace).not.toBe(pds.namespace);
    const otherAlice = await other.createAccount('alice');
    expect(otherAlice.handle).toBe(`alice-${other.namespace}.test`);
    expect(otherAlice.did).not.toBe(alice.did);
    expect(await pds.listPosts(otherAlice.did)).toEqual([]);
  });
});
