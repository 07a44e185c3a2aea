/**
 * Bench baseline: the least a program can do to publish one post through letmepost — one
 * `fetch` POST /v1/posts with the same headers and body the action sent (captured from the
 * fake server by run.mjs), and a fresh Idempotency-Key. Run by run.mjs in a fresh Node 24
 * process. Env: BENCH_URL, BENCH_HEADERS (JSON), BENCH_BODY.
 */
const res = await fetch(`${process.env.BENCH_URL}/v1/posts`, {
  method: 'POST',
  headers: JSON.parse(process.env.BENCH_HEADERS),
  body: process.env.BENCH_BODY,
});
const answer = await res.json();
if (!res.ok || answer.status !== 'published') {
  console.error(`not published: HTTP ${res.status} ${JSON.stringify(answer)}`);
  process.exitCode = 1;
}
