/**
 * Bench baseline: the least a program can do to post to Bluesky with the official SDK —
 * `AtpAgent` login with an app password, then `agent.post({ text })`. Run by run.mjs in a
 * fresh Node 24 process, @atproto/api loaded from node_modules as published (not bundled).
 * Env: BENCH_SERVICE, BENCH_IDENTIFIER, BENCH_PASSWORD, BENCH_TEXT.
 */
import { AtpAgent } from '@atproto/api';

const agent = new AtpAgent({ service: process.env.BENCH_SERVICE });
await agent.login({ identifier: process.env.BENCH_IDENTIFIER, password: process.env.BENCH_PASSWORD });
const { uri } = await agent.post({ text: process.env.BENCH_TEXT });
if (!uri.startsWith('at://')) {
  console.error(`unexpected answer: ${uri}`);
  process.exitCode = 1;
}
