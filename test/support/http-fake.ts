/**
 * What the suite's HTTP fakes have in common — the fake letmepost, the fake Mastodon, the
 * fake GitHub, the recorder and the fault proxy, and the small servers some suites start
 * themselves: a server on an ephemeral port of 127.0.0.1 whose close() also ends the
 * connections still open, request headers and bodies read the same way, faults queued per
 * route, waits that a close() cuts short, and characters counted as servers count them. Each
 * fake keeps its own answers.
 *
 * Only node:http is used.
 */
import type * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const LOOPBACK = '127.0.0.1';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Request headers with lower-cased names; a repeated header's values joined with ', '. */
export function flattenHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The whole request body; rejects when the client goes away before it has sent all of it. */
export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

/** Writes an answer whose content type is JSON unless `headers` says otherwise. */
export function sendAnswer(res: http.ServerResponse, answer: { status: number; headers?: Record<string, string> | undefined; body?: Buffer | string | undefined }): void {
  res.writeHead(answer.status, { 'content-type': JSON_CONTENT_TYPE, ...answer.headers });
  res.end(answer.body ?? '');
}

export interface LoopbackServer {
  readonly server: http.Server;
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  readonly url: string;
  /** Stops listening and destroys every connection still open, idle or not. */
  close(): Promise<void>;
}

/**
 * Starts `server` on an ephemeral port of 127.0.0.1 (nothing else is ever listened on),
 * keeping track of its connections so that close() leaves none behind.
 */
export async function startOnLoopback(server: http.Server): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('a test server got no TCP address');
  return {
    server,
    url: `http://${LOOPBACK}:${(address as AddressInfo).port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * Faults queued per route and taken one per request, first in first out. A fault queued for
 * the route 'any' is taken by whichever request comes first.
 */
export class FaultQueue<Route extends string, Fault> {
  private readonly queued: Array<{ route: Route | 'any'; fault: Fault }> = [];

  inject(route: Route | 'any', ...faults: Fault[]): void {
    for (const fault of faults) this.queued.push({ route, fault });
  }

  /** The first fault queued for `route` or for 'any', removed from the queue; undefined when none is. */
  take(route: Route | undefined): Fault | undefined {
    const index = this.queued.findIndex((q) => q.route === 'any' || q.route === route);
    return index < 0 ? undefined : this.queued.splice(index, 1)[0]!.fault;
  }

  /** How many faults are still queued, per route. */
  pending(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { route } of this.queued) out[route] = (out[route] ?? 0) + 1;
    return out;
  }

  clear(): void {
    this.queued.length = 0;
  }
}

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Characters as the servers count them: user-perceived graphemes. On purpose not src/text's
 * counting, so that a fake never shares a mistake with the action it checks.
 */
export function graphemeCount(text: string): number {
  let n = 0;
  for (const _ of graphemeSegmenter.segment(text)) n++;
  return n;
}

/** Waits (a slow answer, a slow platform) that wakeAll() ends at once, so none outlives its server. */
export class Sleeps {
  private readonly pending = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.pending.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.pending.add(entry);
    });
  }

  wakeAll(): void {
    for (const entry of this.pending) {
      clearTimeout(entry.timer);
      entry.wake();
    }
    this.pending.clear();
  }
}
