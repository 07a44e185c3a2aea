import { describe, expect, it } from 'vitest';
import { pdsEndpoint, Xrpc, XrpcError, XrpcStatus, type Tokens } from '../../../src/publishers/bluesky/xrpc.js';

interface Sent {
  method: string;
  url: string;
  authorization: string | null;
  contentType: string | null;
  body: string;
}

/** A fetch that answers from a script, in order, and keeps what was sent. */
function scripted(answers: Array<() => Response>): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const queue = [...answers];
  const fake: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    const body = init?.body === undefined ? '' : typeof init.body === 'string' ? init.body : Buffer.from(init.body as Uint8Array).toString('base64');
    sent.push({ method: init?.method ?? 'GET', url: String(input), authorization: headers.get('authorization'), contentType: headers.get('content-type'), body });
    const next = queue.shift();
    if (!next) throw new Error(`unexpected request ${String(input)}`);
    return next();
  };
  return { fetch: fake, sent };
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}) => () => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } });

const didDoc = (endpoint: string) => ({ id: 'did:plc:alice', service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: endpoint }] });
const session = { did: 'did:plc:alice', handle: 'alice.test', accessJwt: 'access-1', refreshJwt: 'refresh-1', didDoc: didDoc('https://pds.example/') };

describe('the XRPC connection', () => {
  it('logs in at the service, then sends with the access token to the PDS the DID document names', async () => {
    const { fetch, sent } = scripted([json(200, session), json(200, { uri: 'at://did:plc:alice/app.bsky.feed.post/k', cid: 'bafy', commit: { rev: 'r' } })]);
    const seen: Tokens[] = [];
    const xrpc = new Xrpc('https://entryway.example', fetch, (t) => seen.push(t));
    await xrpc.login('alice.test', 'app-pass');
    const put = await xrpc.putRecord({ repo: 'did:plc:alice', collection: 'app.bsky.feed.post', rkey: 'k', record: { text: 'hi' }, swapRecord: null });
    expect(put).toMatchObject({ cid: 'bafy', commit: { rev: 'r' } });
    expect(sent.map((s) => [s.method, s.url, s.authorization])).toEqual([
      ['POST', 'https://entryway.example/xrpc/com.atproto.server.createSession', null],
      ['POST', 'https://pds.example/xrpc/com.atproto.repo.putRecord', 'Bearer access-1'],
    ]);
    expect(JSON.parse(sent[1]!.body)).toEqual({ repo: 'did:plc:alice', collection: 'app.bsky.feed.post', rkey: 'k', record: { text: 'hi' }, swapRecord: null });
    expect(seen).toEqual([{ accessJwt: 'access-1', refreshJwt: 'refresh-1' }]);
  });

  it('reads without a session from the service, the parameters in the query', async () => {
    const { fetch, sent } = scripted([json(200, { uri: 'at://x/app.bsky.feed.post/k', cid: 'c', value: { text: 't' } })]);
    const record = await new Xrpc('http://127.0.0.1:2583/', fetch).getRecord('alice.test', 'app.bsky.feed.post', 'k');
    expect(record.value).toEqual({ text: 't' });
    expect(sent[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:2583/xrpc/com.atproto.repo.getRecord?repo=alice.test&collection=app.bsky.feed.post&rkey=k', authorization: null });
  });

  it('an expired access token is refreshed once (the new tokens seen first) and the call resent with the new one', async () => {
    const { fetch, sent } = scripted([
      json(200, session),
      json(400, { error: 'ExpiredToken', message: 'Token has expired' }),
      json(200, { accessJwt: 'access-2', refreshJwt: 'refresh-2' }),
      json(200, { did: 'did:plc:bob' }),
    ]);
    const seen: Tokens[] = [];
    const xrpc = new Xrpc('https://pds.example', fetch, (t) => seen.push(t));
    await xrpc.login('alice.test', 'app-pass');
    expect(await xrpc.resolveHandle('bob.test')).toBe('did:plc:bob');
    expect(sent.slice(1).map((s) => [s.url.replace('https://pds.example/xrpc/', ''), s.authorization])).toEqual([
      ['com.atproto.identity.resolveHandle?handle=bob.test', 'Bearer access-1'],
      ['com.atproto.server.refreshSession', 'Bearer refresh-1'],
      ['com.atproto.identity.resolveHandle?handle=bob.test', 'Bearer access-2'],
    ]);
    expect(seen.map((t) => t.accessJwt)).toEqual(['access-1', 'access-2']);
  });

  it('uploads a blob as raw bytes with its media type', async () => {
    const blob = { $type: 'blob', ref: { $link: 'bafkrei' }, mimeType: 'image/png', size: 3 };
    const { fetch, sent } = scripted([json(200, session), json(200, { blob })]);
    const xrpc = new Xrpc('https://pds.example', fetch);
    await xrpc.login('alice.test', 'app-pass');
    expect(await xrpc.uploadBlob(new Uint8Array([1, 2, 3]), 'image/png')).toEqual(blob);
    expect(sent[1]).toMatchObject({ contentType: 'image/png', body: Buffer.from([1, 2, 3]).toString('base64') });
  });

  it.each([
    ['an error answer', json(429, { error: 'RateLimitExceeded', message: 'slow down' }, { 'ratelimit-reset': '1700000000' }), { status: 429, error: 'RateLimitExceeded', message: 'slow down', headers: expect.objectContaining({ 'ratelimit-reset': '1700000000' }) }],
    ['an error without a JSON body', () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }), { status: 502, error: undefined, message: 'Bad Gateway' }],
    ['a success that is not JSON', () => new Response('<html>', { status: 200 }), { status: XrpcStatus.invalidResponse }],
    ['a success cut short', () => new Response('{"uri":', { status: 200 }), { status: XrpcStatus.invalidResponse }],
  ])('%s becomes an XrpcError with what the server said', async (_, answer, expected) => {
    const { fetch } = scripted([answer]);
    const error = await new Xrpc('https://pds.example', fetch).getRecord('a', 'b', 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XrpcError);
    expect(error).toMatchObject(expected);
  });

  it('a login answer without tokens is an answer this client cannot use, not a session', async () => {
    const { fetch } = scripted([json(200, { did: 'did:plc:alice' })]);
    await expect(new Xrpc('https://pds.example', fetch).login('alice.test', 'p')).rejects.toMatchObject({ status: XrpcStatus.invalidResponse });
  });

  it.each([
    ['a PDS service', didDoc('https://pds.example:8443/path'), 'https://pds.example:8443'],
    ['no service', { id: 'did:plc:x' }, undefined],
    ['another service type', { service: [{ id: '#atproto_pds', type: 'Other', serviceEndpoint: 'https://x.example' }] }, undefined],
    ['an endpoint that is not http(s)', didDoc('ftp://pds.example'), undefined],
    ['nothing', undefined, undefined],
  ])('the PDS of a DID document with %s', (_, doc, expected) => {
    expect(pdsEndpoint(doc)).toBe(expected);
  });
});
