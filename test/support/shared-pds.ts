/**
 * The run's one real Bluesky PDS (started by pds-global-setup.ts), as a test file sees it.
 *
 * Files share the PDS, never an account: each sharedPds() gets a namespace of its own, and
 * createAccount('alice') makes the handle `alice-<namespace>.test`, so two files (or two runs
 * against the same PDS, in watch mode) never meet. Use `account.handle` wherever a handle is
 * written, never a literal 'alice.test'.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { pdsClient, type PdsClient } from './pds.js';

export type { TestAccount } from './pds.js';

export interface SharedPds extends PdsClient {
  /** What makes this file's handles its own: `<shortName>-<namespace>.test`. */
  readonly namespace: string;
}

/** The PDS's own limit on the part of a handle before its domain (`.test`). */
const MAX_HANDLE_NAME = 18;

let located: Promise<{ url: string; plcUrl: string }> | undefined;

/** Asks the broker for the PDS's URLs; the first ask of the run starts it. Once per process. */
function locate(): Promise<{ url: string; plcUrl: string }> {
  located ??= (async () => {
    const res = await fetch(inject('testPdsBroker'));
    const text = await res.text();
    if (!res.ok) throw new Error(`The run's shared test PDS did not start:\n${text}`);
    return JSON.parse(text) as { url: string; plcUrl: string };
  })();
  return located;
}

/** The shared PDS, with a namespace of this call's own for the accounts it makes. */
export async function sharedPds(): Promise<SharedPds> {
  const { url, plcUrl } = await locate();
  const client = pdsClient(url, plcUrl);
  const namespace = randomBytes(3).toString('hex');
  return {
    ...client,
    namespace,
    createAccount(shortName) {
      const name = `${shortName}-${namespace}`;
      if (name.length > MAX_HANDLE_NAME) throw new Error(`'${shortName}' is too long for a handle on the shared PDS: at most ${MAX_HANDLE_NAME - namespace.length - 1} characters`);
      return client.createAccount(name);
    },
  };
}
