/**
 * vitest globalSetup: one real Bluesky PDS for the whole run, shared by every file that needs
 * one (through shared-pds.ts), instead of one PDS per file.
 *
 * It starts lazily: this setup only opens a small broker on 127.0.0.1 and provides its URL
 * (inject('testPdsBroker')); the first request to the broker starts the PDS, here in vitest's
 * main process, and every request answers its URLs (or why it could not start). A run of
 * files that need no PDS never loads the PDS packages. The teardown closes both.
 */
import { createServer } from 'node:http';
import type { TestProject } from 'vitest/node';
import { sendAnswer, startOnLoopback } from './http-fake.js';
import { startTestPds, type TestPds } from './pds.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The broker of the run's shared PDS: GET answers {url, plcUrl}, starting the PDS on first use. */
    testPdsBroker: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let pds: Promise<TestPds> | undefined;
  const broker = await startOnLoopback(
    createServer((_req, res) => {
      pds ??= startTestPds();
      pds.then(
        ({ url, plcUrl }) => sendAnswer(res, { status: 200, body: JSON.stringify({ url, plcUrl }) }),
        (error: unknown) => sendAnswer(res, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
    }),
  );
  project.provide('testPdsBroker', broker.url);
  return async () => {
    await broker.close();
    const started = await pds?.catch(() => undefined);
    await started?.close();
  };
}
