/**
 * Bench helper: runs the suite's fake letmepost API (test/support/fake-letmepost.ts) in its
 * own process. Started by run.mjs with Node 24 and --experimental-transform-types (the fake
 * uses TypeScript parameter properties, which plain type stripping rejects).
 *
 * Protocol (line-based): prints one JSON line {url} when listening. Then each stdin line is a
 * command answered by one JSON line on stdout:
 *   stats → {posts, postRequests}
 *   last  → {headers, body} of the last POST /v1/posts received (body as UTF-8 text)
 * When stdin ends (run.mjs is done, or died) the server closes and the process exits.
 */
import { createInterface } from 'node:readline';
// The suite's helpers import each other as './x.js': the hook maps that to x.ts (static imports would resolve before it is registered).
await import('../support/ts-resolve.mjs');
const { startFakeLetmepost } = await import('../support/fake-letmepost.ts');

const server = await startFakeLetmepost({ token: process.env.BENCH_TOKEN ?? 'lmp_test_secret_token' });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

const postRequests = () => server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/posts');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let answer;
  if (line === 'stats') answer = { posts: server.posts.length, postRequests: postRequests().length };
  else if (line === 'last') {
    const last = postRequests().at(-1);
    answer = last ? { headers: last.headers, body: last.body.toString('utf8') } : null;
  } else answer = { error: `unknown command ${line}` };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
lines.on('close', async () => {
  await server.close();
  process.exit(0);
});
