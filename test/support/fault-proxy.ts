/**
 * A reverse proxy on 127.0.0.1 in front of a real server (the test PDS) that forwards every
 * request and, per matching request, can inject a fault. Faults are queued per route
 * (method + XRPC method, e.g. `POST com.atproto.repo.putRecord`) and taken one per request,
 * in order; a request with no fault queued is forwarded untouched.
 *
 * - `none`: forward normally (lets a later fault hit a later request).
 * - `reset-before-forward`: reset the client's connection before its request is read or
 *   forwarded; the server sees nothing.
 * - `drop-after-commit`: forward, let the server answer (it has committed), then close the
 *   client's connection without answering.
 * - `slow-after-commit`: forward, then hold the server's answer for `ms` before sending it.
 * - `status`: answer `status` (500/502/503/429…) without forwarding, with `headers`
 *   (e.g. `retry-after`, `ratelimit-reset`) and an XRPC error body (or `body` as given).
 * - `malformed-json`: forward, then answer 200 `application/json` with the server's body cut
 *   in half (the server has committed; the client cannot read the answer).
 * - `barrier`: hold the request until `count` requests have reached the barrier of the same
 *   `name`, then forward them all (makes two concurrent runs overlap deterministically).
 *
 * The server's own URL in JSON answers is rewritten to the proxy's, so that a client which
 * follows the DID document's service endpoint after login (as @atproto/api does) keeps
 * talking through the proxy. Every request is recorded. Only node:http is used; the server
 * itself is support/http-fake.ts's.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { FaultQueue, flattenHeaders, readBody, Sleeps, startOnLoopback } from './http-fake.js';

export type Fault =
  | { kind: 'none' }
  | { kind: 'reset-before-forward' }
  | { kind: 'drop-after-commit' }
  | { kind: 'slow-after-commit'; ms: number }
  | { kind: 'status'; status: number; headers?: Record<string, string>; error?: string; message?: string; body?: string; contentType?: string }
  | { kind: 'malformed-json' }
  | { kind: 'barrier'; name: string; count: number };

export interface ProxiedRequest {
  /** 1, 2, … in order of arrival. */
  seq: number;
  method: string;
  /** The XRPC method (`com.atproto.repo.putRecord`), or the path for anything else. */
  nsid: string;
  /** Path and query as received. */
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The fault applied to this request, if any. */
  fault?: Fault['kind'];
  /** The server's HTTP status, when the request was forwarded and answered. */
  upstreamStatus?: number;
  /** What the client got: an HTTP status, or 'reset' / 'dropped' (no answer). */
  answered?: number | 'reset' | 'dropped';
}

export interface FaultProxy {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  readonly requests: ProxiedRequest[];
  /** Queues faults for the next requests of `method nsid`, one per request, in order. */
  inject(method: string, nsid: string, ...faults: Fault[]): void;
  /** Recorded requests of one route. */
  calls(method: string, nsid: string): ProxiedRequest[];
  /** Resolves when the server has answered a request of this route (from now on). */
  serverAnswered(method: string, nsid: string): Promise<ProxiedRequest>;
  /** Faults not yet taken, per route (a test asserts that every injected fault was hit). */
  pending(): Record<string, number>;
  /** Forgets recorded requests and queued faults. */
  reset(): void;
  close(): Promise<void>;
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Headers that describe one hop's connection or framing; never copied across the proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function routeKey(method: string, nsid: string): string {
  return `${method.toUpperCase()} ${nsid}`;
}

function nsidOf(path: string): string {
  const pathname = path.split('?')[0]!;
  return pathname.startsWith('/xrpc/') ? pathname.slice('/xrpc/'.length) : pathname;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const upstreamOrigin = upstream.origin;
  const agent = new http.Agent({ keepAlive: false });
  const requests: ProxiedRequest[] = [];
  const faults = new FaultQueue<string, Fault>();
  const barriers = new Map<string, Array<() => void>>();
  const waiters: Array<{ key: string; resolve: (r: ProxiedRequest) => void }> = [];
  const sleeps = new Sleeps();
  let selfOrigin = '';
  let seq = 0;

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      headers.host = upstream.host;
      if (body.length > 0 || req.method === 'POST') headers['content-length'] = String(body.length);
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  /** The server's answer as the client would get it: its own URL replaced by the proxy's. */
  const relay = (answer: Upstream): { status: number; headers: Record<string, string>; body: Buffer } => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let body = answer.body;
    if (/json/i.test(headers['content-type'] ?? '')) body = Buffer.from(body.toString('utf8').split(upstreamOrigin).join(selfOrigin), 'utf8');
    headers['content-length'] = String(body.length);
    return { status: answer.status, headers, body };
  };

  const answer = (res: http.ServerResponse, record: ProxiedRequest, status: number, headers: Record<string, string>, body: Buffer) => {
    if (res.destroyed || res.socket?.destroyed) return;
    record.answered = status;
    res.writeHead(status, { ...headers, 'content-length': String(body.length) });
    res.end(body);
  };

  const serverAnswered = (record: ProxiedRequest) => {
    const key = routeKey(record.method, record.nsid);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.key === key) waiters.splice(i, 1)[0]!.resolve(record);
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const nsid = nsidOf(path);
    const fault = faults.take(routeKey(method, nsid));
    const record: ProxiedRequest = { seq: ++seq, method, nsid, path, headers: flattenHeaders(req.headers), body: Buffer.alloc(0), ...(fault && fault.kind !== 'none' ? { fault: fault.kind } : {}) };
    requests.push(record);

    if (fault?.kind === 'reset-before-forward') {
      // A TCP reset while the request is still unread: the server never sees it.
      record.answered = 'reset';
      req.socket.resetAndDestroy();
      return;
    }

    record.body = await readBody(req);

    if (fault?.kind === 'status') {
      const contentType = fault.contentType ?? 'application/json; charset=utf-8';
      const body = fault.body ?? JSON.stringify({ error: fault.error ?? (fault.status === 429 ? 'RateLimitExceeded' : 'InternalServerError'), message: fault.message ?? `injected HTTP ${fault.status}` });
      answer(res, record, fault.status, { 'content-type': contentType, ...fault.headers }, Buffer.from(body, 'utf8'));
      return;
    }

    if (fault?.kind === 'barrier') {
      const waiting = barriers.get(fault.name) ?? [];
      barriers.set(fault.name, waiting);
      await new Promise<void>((release) => {
        waiting.push(release);
        if (waiting.length >= fault.count) {
          barriers.delete(fault.name);
          for (const go of waiting) go();
        }
      });
    }

    let upstreamAnswer: Upstream;
    try {
      upstreamAnswer = await forward(req, record.body);
    } catch (error) {
      answer(res, record, 502, { 'content-type': 'text/plain' }, Buffer.from(`fault proxy: upstream failed: ${String(error)}`));
      return;
    }
    record.upstreamStatus = upstreamAnswer.status;
    serverAnswered(record);
    const relayed = relay(upstreamAnswer);

    switch (fault?.kind) {
      case 'drop-after-commit':
        record.answered = 'dropped';
        req.socket.destroy();
        return;
      case 'slow-after-commit':
        // A close() meanwhile ends the wait, and the connection: nothing is answered then.
        await sleeps.sleep(fault.ms);
        answer(res, record, relayed.status, relayed.headers, relayed.body);
        return;
      case 'malformed-json': {
        const cut = relayed.body.subarray(0, Math.max(1, Math.floor(relayed.body.length / 2)));
        answer(res, record, 200, { ...relayed.headers, 'content-type': 'application/json; charset=utf-8' }, cut);
        return;
      }
      default:
        answer(res, record, relayed.status, relayed.headers, relayed.body);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fault proxy: ${String(error)}`);
      }
    });
  });
  // A destroyed socket may still see a late write attempt; never let it crash the suite.
  server.on('connection', (socket: Socket) => socket.on('error', () => undefined));
  const loopback = await startOnLoopback(server);
  selfOrigin = loopback.url;

  let closed: Promise<void> | undefined;
  return {
    url: selfOrigin,
    requests,
    inject(method, nsid, ...list) {
      faults.inject(routeKey(method, nsid), ...list);
    },
    calls(method, nsid) {
      const key = routeKey(method, nsid);
      return requests.filter((r) => routeKey(r.method, r.nsid) === key);
    },
    serverAnswered(method, nsid) {
      return new Promise((resolve) => waiters.push({ key: routeKey(method, nsid), resolve }));
    },
    pending() {
      return faults.pending();
    },
    reset() {
      requests.length = 0;
      faults.clear();
    },
    close() {
      closed ??= (async () => {
        const stopped = loopback.close();
        sleeps.wakeAll();
        await stopped;
        agent.destroy();
      })();
      return closed;
    },
  };
}
