/**
 * Bench helper: counts the requests a client sends to the PDS. Runs the suite's reverse
 * proxy (test/support/fault-proxy.ts, no fault queued: every request is forwarded untouched
 * and recorded) in its own Node 24 process, in front of the PDS whose URL is argv[2]. The
 * proxy rewrites the PDS's own URL in JSON answers to its own, so a client that follows the
 * DID document's service endpoint after login (as @atproto/api does) keeps going through it.
 *
 * Protocol (line-based): prints one JSON line {url} when listening. Then each stdin line is a
 * command answered by one JSON line on stdout:
 *   reset → {ok: true}                       forgets the recorded requests
 *   calls → {calls: ["GET com.atproto.repo.getRecord", …]}   every request since the last reset
 * When stdin ends the proxy closes and the process exits.
 */
import { createInterface } from 'node:readline';
// The suite's helpers import each other as './x.js': the hook maps that to x.ts (static imports would resolve before it is registered).
await import('../support/ts-resolve.mjs');
const { startFaultProxy } = await import('../support/fault-proxy.ts');

const target = process.argv[2];
if (!target) throw new Error('usage: proxy.child.mjs <PDS url>');
const proxy = await startFaultProxy(target);
process.stdout.write(`${JSON.stringify({ url: proxy.url })}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let answer;
  if (line === 'reset') {
    proxy.reset();
    answer = { ok: true };
  } else if (line === 'calls') answer = { calls: proxy.requests.map((r) => `${r.method} ${r.nsid}`) };
  else answer = { error: `unknown command ${line}` };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
lines.on('close', async () => {
  await proxy.close();
  process.exit(0);
});
