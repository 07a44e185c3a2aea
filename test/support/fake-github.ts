/**
 * A fake GitHub REST API on 127.0.0.1 for the test suite, backed by a real git repository
 * (the "origin"), so compare, pull request files and path history answer what GitHub would.
 *
 * Implemented:
 *   GET /repos/{owner}/{repo}/compare/{base}...{head}   files from `git diff -M base...head`
 *   GET /repos/{owner}/{repo}/pulls/{n}/files          registered PRs; paginated (per_page, page, Link)
 *   GET /repos/{owner}/{repo}/commits?path=&sha=       `git log` newest first; paginated with Link next/last
 *   GET /repos/{owner}/{repo}/contents/{path}?ref=      the file at a commit, base64 as GitHub sends it
 * Every request is recorded. `token` enforces `Authorization: Bearer <token>` (401 otherwise);
 * `failNext` queues an error answer; `route` adds endpoints (e.g. commit statuses for a ledger).
 */
import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedGitHubRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface FakeGitHubOptions {
  /** The origin repository's directory. */
  repoDir: string;
  /** owner/name served; default 'octo/posts'. */
  repository?: string;
  /** Required bearer token; default 'ghs_fake_token'. Set to null to accept anonymous requests. */
  token?: string | null;
  /** Caps per_page, so pagination shows with a few items; default 100 (GitHub's cap). */
  maxPerPage?: number;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (req: RecordedGitHubRequest, match: RegExpExecArray, url: URL) => FakeAnswer;

const STATUS: Readonly<Record<string, string>> = { A: 'added', D: 'removed', M: 'modified', R: 'renamed', C: 'copied', T: 'changed' };

export class FakeGitHub {
  readonly requests: RecordedGitHubRequest[] = [];
  readonly repository: string;
  readonly token: string | null;
  private server: http.Server | undefined;
  private readonly pulls = new Map<number, { base: string; head: string }>();
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];
  private readonly failures: Array<{ pattern: RegExp; answer: FakeAnswer }> = [];
  url = '';

  constructor(private readonly opts: FakeGitHubOptions) {
    this.repository = opts.repository ?? 'octo/posts';
    this.token = opts.token === undefined ? 'ghs_fake_token' : opts.token;
    const repo = this.repository.replace('/', '\\/');
    this.route('GET', new RegExp(`^/repos/${repo}/compare/([^/]+?)\\.\\.\\.([^/]+)$`), (_req, m) => this.compare(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)));
    this.route('GET', new RegExp(`^/repos/${repo}/pulls/(\\d+)/files$`), (_req, m, url) => this.pullFiles(Number(m[1]), url));
    this.route('GET', new RegExp(`^/repos/${repo}/commits$`), (_req, _m, url) => this.commits(url));
    this.route('GET', new RegExp(`^/repos/${repo}/contents/(.+)$`), (_req, m, url) => this.contents(decodeURIComponent(m[1]!), url.searchParams.get('ref') ?? 'HEAD'));
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        const recorded: RecordedGitHubRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(recorded);
        const answer = this.answer(recorded);
        res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((done) => this.server!.close(() => done()));
  }

  /** Adds an endpoint (later routes win over earlier ones). */
  route(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.unshift({ method, pattern, handler });
  }

  /** Registers pull request `number` comparing `base...head` in the origin repository. */
  addPullRequest(number: number, base: string, head: string): void {
    this.pulls.set(number, { base, head });
  }

  /** The next request whose path matches answers `answer` instead. */
  failNext(pattern: RegExp, answer: FakeAnswer): void {
    this.failures.push({ pattern, answer });
  }

  /** Recorded requests whose path (without query) matches. */
  requestsTo(pattern: RegExp): RecordedGitHubRequest[] {
    return this.requests.filter((r) => pattern.test(r.path.split('?')[0]!));
  }

  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
  }

  private answer(req: RecordedGitHubRequest): FakeAnswer {
    const url = new URL(req.path, this.url);
    if (this.token !== null && req.headers.authorization !== `Bearer ${this.token}`) {
      return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
    }
    const failure = this.failures.findIndex((f) => f.pattern.test(url.pathname));
    if (failure >= 0) return this.failures.splice(failure, 1)[0]!.answer;
    for (const r of this.routes) {
      if (r.method !== req.method) continue;
      const match = r.pattern.exec(url.pathname);
      if (match) {
        try {
          return r.handler(req, match, url);
        } catch (error) {
          return { status: 404, body: { message: `Not Found (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` } };
        }
      }
    }
    return { status: 404, body: { message: 'Not Found' } };
  }

  private git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.opts.repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
  }

  private diff(base: string, head: string): Array<Record<string, string | number>> {
    const fields = this.git('diff', '--name-status', '-z', '-M', `${base}...${head}`, '--').split('\0');
    const files: Array<Record<string, string | number>> = [];
    for (let i = 0; i < fields.length; ) {
      const code = fields[i++];
      if (!code) continue;
      const status = STATUS[code[0]!] ?? 'changed';
      if (status === 'renamed' || status === 'copied') {
        const previous = fields[i++]!;
        // GitHub reports a pure move with `changes: 0`; the exact count does not matter here.
        files.push({ filename: fields[i++]!, status, previous_filename: previous, changes: code === 'R100' ? 0 : 1 });
      } else {
        files.push({ filename: fields[i++]!, status });
      }
    }
    return files;
  }

  private compare(base: string, head: string): FakeAnswer {
    this.git('rev-parse', '--verify', `${base}^{commit}`);
    this.git('rev-parse', '--verify', `${head}^{commit}`);
    const mergeBase = this.git('merge-base', base, head).trim();
    return { status: 200, body: { status: 'ahead', merge_base_commit: { sha: mergeBase }, files: this.diff(base, head), commits: [] } };
  }

  private contents(path: string, ref: string): FakeAnswer {
    let text: string;
    try {
      text = this.git('show', `${ref}:${path}`);
    } catch {
      return { status: 404, body: { message: 'Not Found' } };
    }
    return { status: 200, body: { type: 'file', path, encoding: 'base64', content: Buffer.from(text).toString('base64') } };
  }

  private page<T>(items: T[], url: URL): FakeAnswer {
    const perPage = Math.max(1, Math.min(this.opts.maxPerPage ?? 100, Number(url.searchParams.get('per_page') ?? 30)));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number) => {
      const u = new URL(url.toString());
      u.searchParams.set('page', String(n));
      u.searchParams.set('per_page', String(perPage));
      return u.toString();
    };
    const links: string[] = [];
    if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) links.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: links.length > 0 ? { link: links.join(', ') } : {} };
  }

  private pullFiles(number: number, url: URL): FakeAnswer {
    const pr = this.pulls.get(number);
    if (!pr) return { status: 404, body: { message: 'Not Found' } };
    return this.page(this.diff(pr.base, pr.head), url);
  }

  private commits(url: URL): FakeAnswer {
    const sha = url.searchParams.get('sha') ?? 'HEAD';
    const path = url.searchParams.get('path');
    const out = this.git('log', '--format=%H%x09%aI%x09%cI', sha, ...(path ? ['--', path] : [])).trim();
    const items = out === '' ? [] : out.split('\n').map((line) => {
      const [hash, authored, committed] = line.split('\t');
      return { sha: hash, commit: { author: { date: authored }, committer: { date: committed } } };
    });
    return this.page(items, url);
  }
}
