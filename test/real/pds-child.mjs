// The PDS half of start-real-letmepost.mjs, in its own process: a real Bluesky PDS from the
// suite's test/support/pds.ts plus one account with an app password. It runs on the Node that
// node_modules' native modules (better-sqlite3) were built for, which may not be the Node 24
// the rest runs on. Prints one JSON line {pdsUrl, plcUrl, did, handle, appPassword} on stdout,
// then serves until its stdin closes (the parent exited) or SIGTERM/SIGINT.
//
//   node test/real/pds-child.mjs [shortName]      # handle <shortName>.test, default alice
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
const { startTestPds } = await import('../support/pds.ts');

const shortName = process.argv[2] ?? 'alice';
const pds = await startTestPds();
let closing;
const stop = (code) => {
  closing ??= pds
    .close()
    .catch((e) => process.stderr.write(`[pds] close failed: ${e?.message ?? e}\n`))
    .finally(() => process.exit(code));
  return closing;
};
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();

try {
  const account = await pds.createAccount(shortName);
  process.stdout.write(
    `${JSON.stringify({ pdsUrl: pds.url, plcUrl: pds.plcUrl, did: account.did, handle: account.handle, appPassword: account.appPassword })}\n`,
  );
} catch (e) {
  process.stderr.write(`[pds] ${e?.stack ?? e}\n`);
  await stop(1);
}
