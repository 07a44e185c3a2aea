/**
 * Bench baseline: the least a program can send to post to Bluesky — two plain `fetch`
 * requests, no SDK: com.atproto.server.createSession with the app password, then
 * com.atproto.repo.createRecord of an app.bsky.feed.post with the session's access token.
 * Run by run.mjs in a fresh Node 24 process against the same PDS as the action.
 * Env: BENCH_SERVICE, BENCH_IDENTIFIER, BENCH_PASSWORD, BENCH_TEXT.
 */
const service = process.env.BENCH_SERVICE;

async function xrpc(nsid, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${service}/xrpc/${nsid}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${nsid}: HTTP ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

const session = await xrpc('com.atproto.server.createSession', { identifier: process.env.BENCH_IDENTIFIER, password: process.env.BENCH_PASSWORD });
const { uri } = await xrpc(
  'com.atproto.repo.createRecord',
  { repo: session.did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: process.env.BENCH_TEXT, createdAt: new Date().toISOString() } },
  session.accessJwt,
);
if (typeof uri !== 'string' || !uri.startsWith('at://')) {
  console.error(`unexpected answer: ${uri}`);
  process.exitCode = 1;
}
