/**
 * A fake GitHub REST API on 127.0.0.1 for the test suite, backed by a real git repository
 * (the "origin"), so compare, pull request files and path history answer what GitHub would.
 *
 * Implemented:
 *   GET /repos/{owner}/{repo}/compare/{base}...{head}   files from `git diff -M base...head`
 *   GET /repos/{owner}/{repo}/pulls/{n}/files          registered PRs; paginated (per_page, page, Link)
 *   GET /repos/{owner}/{repo}/commits?path=&sha=       `git log` newest first; paginated with Link next/last
 *   GET /repos/{owner}/{repo}/commits/{ref}             one commit: sha, commit.author/committer.date (422 unknown)
 *   GET /repos/{owner}/{repo}/contents/{path}?ref=      the file at a commit, base64 as GitHub sends it
 *   GET /repos/{owner}/{repo}/commits/{ref}/status      the combined status: the latest status per context, newest first, paginated
 *   POST /repos/{owner}/{repo}/statuses/{sha}           stores {state, context, description, target_url}
 *                                                      (422 for an unknown commit or a bad state; 403 when
 *                                                      `denyStatusWrites`, as for a token without statuses: write)
 * Every request is recorded. `token` enforces `Authorization: Bearer <token>` (401 otherwise);
 * `failNext` queues an error answer; `intercept` answers instead of the routes; `route` adds endpoints.
 */
import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import { flattenHeaders, readBody, sendAnswer, startOnLoopback, type LoopbackServer } from './http-fake.js';

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
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, instead of `body`. */
  raw?: Buffer;
  headers?: Record<string, string>;
}

type Handler = (req: RecordedGitHubRequest, match: RegExpExecArray, url: URL) => FakeAnswer;

/** A commit status as GitHub stores it. */
export interface FakeCommitStatus {
  id: number;
  state: string;
  context: string;
  description: string | null;
  target_url: string | null;
  created_at: string;
}

const STATUS_STATES = new Set(['error', 'failure', 'pending', 'success']);

const STATUS: Readonly<Record<string, string>> = { A: 'added', D: 'removed', M: 'modified', R: 'renamed', C: 'copied', T: 'changed' };

export class FakeGitHub {
  readonly requests: RecordedGitHubRequest[] = [];
  readonly repository: string;
  readonly token: string | null;
  private server: LoopbackServer | undefined;
  private readonly pulls = new Map<number, { base: string; head: string }>();
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];
  private readonly failures: Array<{ pattern: RegExp; answer: FakeAnswer }> = [];
  /** Every status ever created, per full commit SHA, oldest first. */
  private readonly commitStatuses = new Map<string, FakeCommitStatus[]>();
  private statusIds = 0;
  /** true: POST /statuses answers 403, like a token without `permissions: statuses: write`. */
  denyStatusWrites = false;
  /** true: reading commit statuses answers 403 too, like a token without any `statuses` permission. */
  denyStatusReads = false;
  /** Consulted first for every request: an answer overrides the routes (e.g. to kill the client mid-step). */
  intercept: ((req: RecordedGitHubRequest) => FakeAnswer | undefined) | undefined;
  url = '';
  /**
   * Release assets: `GET /repos/o/r/releases/assets/:id` asked for `application/octet-stream`
   * answers 302 to a signed URL on another origin (the storage server), as GitHub does; the
   * storage serves the bytes as `application/octet-stream` and refuses a request that carries
   * an Authorization header (400), as S3 does for a second auth mechanism.
   */
  private readonly assets = new Map<number, Buffer>();
  /**
   * Files of the web host (`GITHUB_SERVER_URL`) by path: an attachment
   * (`/user-attachments/assets/:id`) answers 302 to a signed storage URL, as github.com does;
   * a repository's raw file answers its bytes.
   */
  private readonly webFiles = new Map<string, Buffer>();
  /** Published releases by tag: `GET /repos/o/r/releases/tags/:tag`. */
  private readonly releases = new Map<string, Record<string, unknown>>();
  readonly storageRequests: RecordedGitHubRequest[] = [];
  private storage: LoopbackServer | undefined;
  storageUrl = '';

  constructor(private readonly opts: FakeGitHubOptions) {
    this.repository = opts.repository ?? 'octo/posts';
    this.token = opts.token === undefined ? 'ghs_fake_token' : opts.token;
    const repo = this.repository.replace('/', '\\/');
    this.route('GET', new RegExp(`^/repos/${repo}/compare/([^/]+?)\\.\\.\\.([^/]+)$`), (_req, m) => this.compare(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)));
    this.route('GET', new RegExp(`^/repos/${repo}/pulls/(\\d+)/files$`), (_req, m, url) => this.pullFiles(Number(m[1]), url));
    this.route('GET', new RegExp(`^/repos/${repo}/commits$`), (_req, _m, url) => this.commits(url));
    this.route('GET', new RegExp(`^/repos/${repo}/contents/(.+)$`), (_req, m, url) => this.contents(decodeURIComponent(m[1]!), url.searchParams.get('ref') ?? 'HEAD'));
    this.route('GET', new RegExp(`^/repos/${repo}/commits/([^/]+)$`), (_req, m) => this.commit(decodeURIComponent(m[1]!)));
    this.route('GET', new RegExp(`^/repos/${repo}/commits/([^/]+)/status$`), (_req, m, url) => this.combinedStatus(decodeURIComponent(m[1]!), url));
    this.route('POST', new RegExp(`^/repos/${repo}/statuses/([^/]+)$`), (req, m) => this.createStatus(decodeURIComponent(m[1]!), req.body));
    this.route('GET', new RegExp(`^/repos/${repo}/releases/assets/(\\d+)$`), (req, m) => {
      const id = Number(m[1]);
      if (!this.assets.has(id)) return { status: 404, body: { message: 'Not Found' } };
      if (req.headers.accept !== 'application/octet-stream') return { status: 200, body: { id, size: this.assets.get(id)!.length, content_type: 'application/octet-stream' } };
      return { status: 302, headers: { location: `${this.storageUrl}/github-production-release-asset/${id}?X-Amz-Signature=fakesignature` } };
    });
    this.route('GET', new RegExp(`^/repos/${repo}/releases/tags/(.+)$`), (_req, m) => {
      const release = this.releases.get(decodeURIComponent(m[1]!));
      return release === undefined ? { status: 404, body: { message: 'Not Found' } } : { status: 200, body: release };
    });
    this.route('GET', /^\/user-attachments\/assets\/([\w-]+)$/, (_req, m) =>
      this.webFiles.has(`/user-attachments/assets/${m[1]}`) ? { status: 302, headers: { location: `${this.storageUrl}/github-production-user-asset/${m[1]}?X-Amz-Signature=fakesignature` } } : { status: 404, body: { message: 'Not Found' } },
    );
    this.route('GET', new RegExp(`^/${repo}/raw/.+$`), (req) => {
      const bytes = this.webFiles.get(req.path);
      return bytes === undefined ? { status: 404, body: { message: 'Not Found' } } : { status: 200, headers: { 'content-type': 'application/octet-stream' }, raw: bytes };
    });
  }

  /** Serves `bytes` at `path` of the web host: an attachment through the storage host, anything else directly. */
  addWebFile(path: string, bytes: Buffer): void {
    this.webFiles.set(path, bytes);
  }

  /** Publishes `release` for its `tag_name`. */
  addRelease(release: Record<string, unknown> & { tag_name: string }): void {
    this.releases.set(release.tag_name, release);
  }

  /** Serves `bytes` as release asset `id`. */
  addReleaseAsset(id: number, bytes: Buffer): void {
    this.assets.set(id, bytes);
  }

  /** The latest status of each context on a commit (by full SHA), as the combined status lists them. */
  statusesOn(sha: string): FakeCommitStatus[] {
    const latest = new Map<string, FakeCommitStatus>();
    for (const s of this.commitStatuses.get(sha) ?? []) {
      latest.delete(s.context);
      latest.set(s.context, s);
    }
    return [...latest.values()];
  }

  /** Adds a status directly (another tool's, e.g. CI), as if POSTed. */
  addStatus(sha: string, status: { state: string; context: string; description?: string; target_url?: string }): void {
    const list = this.commitStatuses.get(sha) ?? [];
    list.push({ id: ++this.statusIds, state: status.state, context: status.context, description: status.description ?? null, target_url: status.target_url ?? null, created_at: new Date().toISOString() });
    this.commitStatuses.set(sha, list);
  }

  /** Every status created, on any commit: [sha, status]. */
  allStatuses(): Array<[string, FakeCommitStatus]> {
    return [...this.commitStatuses].flatMap(([sha, list]) => list.map((s): [string, FakeCommitStatus] => [sha, s]));
  }

  async start(): Promise<this> {
    this.server = await startOnLoopback(
      http.createServer((req, res) => {
        readBody(req).then(
          (body) => {
            const recorded: RecordedGitHubRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: flattenHeaders(req.headers), body: body.toString('utf8') };
            this.requests.push(recorded);
            const answer = this.intercept?.(recorded) ?? this.answer(recorded);
            sendAnswer(res, { status: answer.status, headers: answer.headers, body: answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)) });
          },
          () => undefined, // the client went away before its request was whole: nothing to record or answer
        );
      }),
    );
    this.url = this.server.url;
    this.storage = await startOnLoopback(
      http.createServer((req, res) => {
        const recorded: RecordedGitHubRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: flattenHeaders(req.headers), body: '' };
        this.storageRequests.push(recorded);
        const id = Number(/^\/github-production-release-asset\/(\d+)\?X-Amz-Signature=/.exec(recorded.path)?.[1]);
        const attachment = /^\/github-production-user-asset\/([\w-]+)\?X-Amz-Signature=/.exec(recorded.path)?.[1];
        const bytes = attachment !== undefined ? this.webFiles.get(`/user-attachments/assets/${attachment}`) : this.assets.get(id);
        if (recorded.headers.authorization !== undefined) return sendAnswer(res, { status: 400, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>' });
        if (bytes === undefined) return sendAnswer(res, { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>AccessDenied</Code></Error>' });
        sendAnswer(res, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: bytes });
      }),
    );
    this.storageUrl = this.storage.url;
    return this;
  }

  async stop(): Promise<void> {
    await this.storage?.close();
    await this.server?.close();
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
    // The web host's files (attachments, raw files of a public repository) need no token; the API does.
    const web = /^\/(?:user-attachments\/|[^/]+\/[^/]+\/raw\/)/.test(url.pathname);
    if (!web && this.token !== null && req.headers.authorization !== `Bearer ${this.token}`) {
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

  private resolveCommit(ref: string): string | undefined {
    try {
      return this.git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`).trim();
    } catch {
      return undefined;
    }
  }

  /** Paginated like GitHub: `per_page` (default 30, at most 100) statuses, newest first, with a Link header. */
  private combinedStatus(ref: string, url: URL): FakeAnswer {
    if (this.denyStatusReads) return { status: 403, body: { message: 'Resource not accessible by integration' } };
    const sha = this.resolveCommit(ref);
    if (!sha) return { status: 422, body: { message: `No commit found for SHA: ${ref}` } };
    const all = this.statusesOn(sha).sort((a, b) => b.id - a.id);
    const state = all.length === 0 ? 'pending' : all.some((s) => s.state === 'error' || s.state === 'failure') ? 'failure' : all.every((s) => s.state === 'success') ? 'success' : 'pending';
    const page = this.page(all, url);
    return { ...page, body: { state, sha, total_count: all.length, statuses: page.body } };
  }

  private createStatus(ref: string, body: string): FakeAnswer {
    if (this.denyStatusWrites) {
      return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/commits/statuses#create-a-commit-status' } };
    }
    const sha = /^[0-9a-f]{40}$/.test(ref) ? this.resolveCommit(ref) : undefined;
    if (!sha) return { status: 422, body: { message: `No commit found for SHA: ${ref}` } };
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return { status: 400, body: { message: 'Problems parsing JSON' } };
    }
    if (typeof input.state !== 'string' || !STATUS_STATES.has(input.state)) return { status: 422, body: { message: 'Validation Failed', errors: [{ field: 'state', code: 'invalid' }] } };
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    if ((str(input.description) ?? '').length > 140) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Status', field: 'description', code: 'custom', message: 'description is too long (maximum is 140 characters)' }] } };
    const status: FakeCommitStatus = {
      id: ++this.statusIds,
      state: input.state,
      context: str(input.context) ?? 'default',
      description: str(input.description),
      target_url: str(input.target_url),
      created_at: new Date().toISOString(),
    };
    const list = this.commitStatuses.get(sha) ?? [];
    list.push(status);
    this.commitStatuses.set(sha, list);
    return { status: 201, body: status };
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

  private commit(ref: string): FakeAnswer {
    let line: string;
    try {
      line = this.git('log', '-1', '--format=%H%x09%aI%x09%cI', ref).trim();
    } catch {
      return { status: 422, body: { message: `No commit found for SHA: ${ref}`, documentation_url: 'https://docs.github.com/rest/commits/commits#get-a-commit' } };
    }
    const [hash, authored, committed] = line.split('\t');
    return { status: 200, body: { sha: hash, commit: { author: { date: authored }, committer: { date: committed } } } };
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
