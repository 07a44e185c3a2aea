/**
 * A recording HTTP server on 127.0.0.1: every request is kept (method, path, headers, body)
 * and answered by `respond` (default: 503, so a client that reaches it fails loudly). The
 * bad-input and fork-safety suites point publishers it should never reach at one and assert
 * that its log stays empty; the secret-hygiene suite puts one in front of the real PDS.
 */
import * as http from 'node:http';
import { flattenHeaders, readBody, sendAnswer, startOnLoopback } from './http-fake.js';

export interface RecordedHttpRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export type Responder = (req: RecordedHttpRequest) => HttpAnswer | Promise<HttpAnswer>;

export interface Recorder {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  requests: RecordedHttpRequest[];
  close(): Promise<void>;
}

export async function startRecorder(respond: Responder = () => ({ status: 503, body: '{"error":"recorder: this server should not have been called"}' })): Promise<Recorder> {
  const requests: RecordedHttpRequest[] = [];
  const server = http.createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const recorded: RecordedHttpRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: flattenHeaders(req.headers), body };
        requests.push(recorded);
        Promise.resolve()
          .then(() => respond(recorded))
          .then(
            (answer) => sendAnswer(res, answer),
            (error: unknown) => sendAnswer(res, { status: 500, headers: { 'content-type': 'text/plain' }, body: `recorder: ${String(error)}` }),
          );
      },
      () => undefined, // the client went away before its request was whole: nothing to record or answer
    );
  });
  const loopback = await startOnLoopback(server);
  return { url: loopback.url, requests, close: () => loopback.close() };
}

/** Forwards a recorded request to `target` (same method, path, headers and body) and returns its answer. */
export async function forward(target: string, req: RecordedHttpRequest): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'transfer-encoding', 'accept-encoding'].includes(k)));
  const res = await fetch(new URL(req.path, target), {
    method: req.method,
    headers,
    ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: req.body }),
  });
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
  });
  return { status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) };
}
