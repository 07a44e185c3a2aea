/**
 * A small port onto the GitHub REST API: the few endpoints the action needs (changed files of
 * a push or a pull request, the commit that added a file). Open for more (commit statuses for
 * the ledger): `GitHubRestClient.request` / `paginate` are the building blocks.
 *
 * Errors name the `github-token` input and the workflow permissions that fix them; the token
 * itself never appears in any message.
 */
import { httpRequest, RedirectRefused, type HttpResponse } from './http.js';
import { errorMessage } from '../errors.js';
import { clip } from '../secrets.js';

/** How a file changed, as GitHub reports it. */
export type ChangeStatus = 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';

export interface ChangedFile {
  /** Repository-relative path (the new path of a rename). */
  path: string;
  status: ChangeStatus;
  /** For a rename or copy: where it came from. */
  previousPath?: string;
  /** For a rename: the content did not change (git's R100, GitHub's `changes: 0`). */
  identical?: boolean;
}

export interface CommitRef {
  sha: string;
  /** Author time, epoch ms: survives rebases and cherry-picks, unlike the committer time. */
  time: number;
}

export interface GitHubApi {
  /** Files changed from the merge base of `base` and `head` to `head` (GitHub's `base...head`). */
  compareFiles(base: string, head: string): Promise<{ files: ChangedFile[]; truncated: boolean; mergeBase?: string }>;
  /** Files changed by a pull request (at most 3000, GitHub's cap). */
  pullRequestFiles(number: number): Promise<ChangedFile[]>;
  /** The oldest commit reachable from `ref` that touched `path` (the one that added it), or undefined. */
  firstCommitForPath(path: string, ref: string): Promise<CommitRef | undefined>;
  /** A file's text at a commit, or undefined when it does not exist there. */
  fileText(path: string, ref: string): Promise<string | undefined>;
}

/** A comment on an issue or pull request, as far as the preview comment needs it. */
export interface IssueComment {
  id: number;
  body: string;
  /** Written by an app or bot (the workflow's token), not by a person. */
  byBot: boolean;
  url?: string;
}

/** The comments of one pull request: the preview comment is found, created and updated through this. */
export interface IssueCommentsApi {
  issueComments(issue: number): Promise<IssueComment[]>;
  createIssueComment(issue: number, body: string): Promise<IssueComment>;
  updateIssueComment(id: number, body: string): Promise<IssueComment>;
}

function toIssueComment(raw: unknown): IssueComment | undefined {
  const c = raw as { id?: unknown; body?: unknown; html_url?: unknown; user?: { type?: unknown } | null; performed_via_github_app?: unknown } | null;
  if (!c || typeof c.id !== 'number') return undefined;
  return {
    id: c.id,
    body: typeof c.body === 'string' ? c.body : '',
    byBot: c.user?.type === 'Bot' || (c.performed_via_github_app !== null && c.performed_via_github_app !== undefined),
    ...(typeof c.html_url === 'string' ? { url: c.html_url } : {}),
  };
}

const COMMENT_PERMISSIONS = "'permissions: pull-requests: write' for the preview comment";

/** A GitHub API call failed; `status` is the HTTP status (0 for a transport failure). */
export class GitHubApiError extends Error {
  override readonly name: string = 'GitHubApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface GitHubRestOptions {
  /** `ctx.apiUrl`, e.g. https://api.github.com */
  apiUrl: string;
  /** owner/name */
  repository: string;
  /** The `github-token` input; requests go unauthenticated without it (public repositories only). */
  token?: string;
  timeoutMs?: number;
  /** Epoch ms: the step's deadline, which every request shares (no request runs past it). */
  deadline?: number;
  fetch?: typeof fetch;
  /** Pages followed at most by `paginate` (100 items each). */
  maxPages?: number;
}

const STATUSES: readonly ChangeStatus[] = ['added', 'removed', 'modified', 'renamed', 'copied', 'changed', 'unchanged'];

/** Parses an RFC 8288 Link header into rel → URL. */
export function parseLinkHeader(header: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part);
    if (match) for (const rel of match[2]!.split(/\s+/)) links[rel] = match[1]!;
  }
  return links;
}

function toChangedFile(raw: unknown): ChangedFile | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const f = raw as { filename?: unknown; status?: unknown; previous_filename?: unknown; changes?: unknown };
  if (typeof f.filename !== 'string') return undefined;
  const status = STATUSES.includes(f.status as ChangeStatus) ? (f.status as ChangeStatus) : 'changed';
  return {
    path: f.filename,
    status,
    ...(typeof f.previous_filename === 'string' ? { previousPath: f.previous_filename } : {}),
    ...(status === 'renamed' ? { identical: f.changes === 0 } : {}),
  };
}

function toCommitRef(raw: unknown): CommitRef | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const c = raw as { sha?: unknown; commit?: { author?: { date?: unknown }; committer?: { date?: unknown } } };
  const date = c.commit?.author?.date ?? c.commit?.committer?.date;
  const time = typeof date === 'string' ? Date.parse(date) : Number.NaN;
  if (typeof c.sha !== 'string' || Number.isNaN(time)) return undefined;
  return { sha: c.sha, time };
}

export class GitHubRestClient implements GitHubApi, IssueCommentsApi {
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly maxPages: number;

  constructor(private readonly opts: GitHubRestOptions) {
    this.base = new URL(opts.apiUrl.replace(/\/+$/, '') + '/');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchImpl = opts.fetch ?? fetch;
    this.maxPages = opts.maxPages ?? 30;
  }

  /** `/repos/owner/name` + suffix. */
  repoPath(suffix: string): string {
    return `repos/${this.opts.repository}${suffix}`;
  }

  /**
   * One request; throws GitHubApiError for anything but 2xx. `path` is relative to the API URL, or an absolute URL on the same origin (from a Link header).
   * `permissions` names what the call needs in 403/404 messages (default: contents: read, and pull-requests: read on pull request events).
   */
  async request<T = unknown>(method: string, path: string, opts: { query?: Record<string, string | number>; body?: unknown; permissions?: string } = {}): Promise<{ status: number; headers: Headers; data: T }> {
    const url = path.startsWith('http') ? new URL(path) : new URL(path.replace(/^\/+/, ''), this.base);
    if (url.origin !== this.base.origin) throw new GitHubApiError(0, `GitHub API: refusing to follow a link to ${url.origin}, which is not ${this.base.origin}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': 'letmepost-action',
    };
    if (this.opts.token) headers.Authorization = `Bearer ${this.opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
    const what = `GitHub API ${method} ${url.pathname}`;
    const left = (this.opts.deadline ?? Number.POSITIVE_INFINITY) - Date.now();
    if (left < 500) throw new GitHubApiError(0, `${what}: not sent, the step's deadline ('timeout-seconds') has passed`);
    let response: HttpResponse;
    try {
      // Same-origin redirects only (a renamed repository answers 301): the token goes nowhere else.
      response = await httpRequest(what, url.toString(), { method, headers, ...(body !== undefined ? { body } : {}) }, Math.min(this.timeoutMs, left), this.fetchImpl, { followSameOrigin: true });
    } catch (error) {
      const late = Date.now() >= (this.opts.deadline ?? Number.POSITIVE_INFINITY) - 500 ? " before the step's deadline ('timeout-seconds')" : '';
      throw new GitHubApiError(0, `${errorMessage(error)}${late}; check that ${this.base.origin} is reachable from the runner`);
    }
    if (response.status < 200 || response.status >= 300) throw this.failure(what, response, opts.permissions);
    const text = response.body.toString('utf8');
    let data: unknown = undefined;
    if (text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        throw new GitHubApiError(response.status, `${what} answered ${response.status} with a body that is not JSON`);
      }
    }
    return { status: response.status, headers: response.headers, data: data as T };
  }

  /** Follows `Link: rel="next"` up to maxPages; `pick` extracts the items of one page. */
  async paginate<T>(
    path: string,
    query: Record<string, string | number>,
    pick: (data: unknown) => unknown[],
    map: (item: unknown) => T | undefined,
    opts: { permissions?: string } = {},
  ): Promise<{ items: T[]; complete: boolean }> {
    const items: T[] = [];
    let next: string | undefined = path;
    let first = true;
    for (let page = 0; next !== undefined && page < this.maxPages; page++) {
      const res: { headers: Headers; data: unknown } = await this.request('GET', next, { ...(first ? { query: { per_page: 100, ...query } } : {}), ...(opts.permissions ? { permissions: opts.permissions } : {}) });
      first = false;
      for (const raw of pick(res.data)) {
        const item = map(raw);
        if (item !== undefined) items.push(item);
      }
      next = parseLinkHeader(res.headers.get('link')).next;
    }
    return { items, complete: next === undefined };
  }

  async compareFiles(base: string, head: string): Promise<{ files: ChangedFile[]; truncated: boolean; mergeBase?: string }> {
    // The files list comes whole on the first page (up to 300 files); later pages only page commits.
    const res = await this.request<{ files?: unknown[]; merge_base_commit?: { sha?: unknown } }>('GET', this.repoPath(`/compare/${encodeURIComponent(base)}...${encodeURIComponent(head)}`), { query: { per_page: 1 } });
    const raw = Array.isArray(res.data?.files) ? res.data.files : [];
    const files = raw.map(toChangedFile).filter((f): f is ChangedFile => f !== undefined);
    const mergeBase = res.data?.merge_base_commit?.sha;
    return { files, truncated: raw.length >= 300, ...(typeof mergeBase === 'string' ? { mergeBase } : {}) };
  }

  async fileText(path: string, ref: string): Promise<string | undefined> {
    const route = this.repoPath(`/contents/${path.split('/').map(encodeURIComponent).join('/')}`);
    try {
      const res = await this.request<{ content?: unknown; encoding?: unknown }>('GET', route, { query: { ref } });
      const { content, encoding } = res.data ?? {};
      if (typeof content !== 'string') return undefined;
      return encoding === 'base64' ? Buffer.from(content, 'base64').toString('utf8') : content;
    } catch (error) {
      if (error instanceof GitHubApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async pullRequestFiles(number: number): Promise<ChangedFile[]> {
    const { items } = await this.paginate(this.repoPath(`/pulls/${number}/files`), {}, (d) => (Array.isArray(d) ? d : []), toChangedFile);
    return items;
  }

  /** A commit's committer time (epoch ms), as `git show -s --format=%ct` gives it; needs only contents: read. */
  async commitTime(sha: string): Promise<number | undefined> {
    const res = await this.request<{ commit?: { committer?: { date?: unknown } } }>('GET', this.repoPath(`/commits/${encodeURIComponent(sha)}`));
    const date = res.data?.commit?.committer?.date;
    const ms = typeof date === 'string' ? Date.parse(date) : Number.NaN;
    return Number.isNaN(ms) ? undefined : ms;
  }

  /** The published release of a tag, as the `release` event carries it; undefined when the tag has none (404). */
  async releaseByTag(tag: string): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await this.request<unknown>('GET', this.repoPath(`/releases/tags/${encodeURIComponent(tag)}`));
      return typeof res.data === 'object' && res.data !== null && !Array.isArray(res.data) ? (res.data as Record<string, unknown>) : undefined;
    } catch (error) {
      if (error instanceof GitHubApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * The bytes of a release asset, at most `maxBytes`. The API answers its URL, asked for
   * `application/octet-stream`, with a redirect to a signed download URL on another host (or
   * with the bytes themselves): the token goes to the API only, the signed URL is fetched
   * without it — and never written to a message, since its signature is a credential too.
   */
  async releaseAsset(id: number, maxBytes: number): Promise<Buffer> {
    const url = new URL(this.repoPath(`/releases/assets/${id}`), this.base);
    const what = `GitHub API GET ${url.pathname}`;
    const headers: Record<string, string> = { Accept: 'application/octet-stream', 'X-GitHub-Api-Version': '2022-11-28', 'User-Agent': 'letmepost-action' };
    if (this.opts.token) headers.Authorization = `Bearer ${this.opts.token}`;
    const timeoutMs = Math.max(1, Math.min(this.timeoutMs * 4, (this.opts.deadline ?? Number.POSITIVE_INFINITY) - Date.now()));
    let signed: URL;
    try {
      const response = await httpRequest(what, url.toString(), { method: 'GET', headers }, timeoutMs, this.fetchImpl, { followSameOrigin: true, maxBytes });
      if (response.status < 200 || response.status >= 300) throw this.failure(what, response, 'contents: read');
      return response.body;
    } catch (error) {
      if (error instanceof GitHubApiError) throw error;
      if (!(error instanceof RedirectRefused)) throw new GitHubApiError(0, `${errorMessage(error)}; check that ${this.base.origin} is reachable from the runner`);
      signed = new URL(error.to, error.from);
    }
    // Loaded here only: most runs download no release asset (start-up, issue 15).
    const { fetchLimited, LimitedFetchError } = await import('./fetch-limited.js');
    try {
      return (await fetchLimited(signed.toString(), { fetch: this.fetchImpl, timeoutMs, maxBytes, overflow: 'error' })).bytes;
    } catch (error) {
      const reason = error instanceof LimitedFetchError ? (error.reason === 'too-big' ? `it is larger than ${maxBytes.toLocaleString('en-US')} bytes` : `the download failed (${error.reason})`) : 'the download failed';
      throw new GitHubApiError(0, `release asset ${id}: ${reason} at ${signed.origin}`);
    }
  }

  async firstCommitForPath(path: string, ref: string): Promise<CommitRef | undefined> {
    // Newest first: the oldest commit is the last item of the last page.
    const route = this.repoPath('/commits');
    const first = await this.request<unknown[]>('GET', route, { query: { path, sha: ref, per_page: 100 } });
    const last = parseLinkHeader(first.headers.get('link')).last;
    const page = last === undefined ? first.data : (await this.request<unknown[]>('GET', last)).data;
    const list = Array.isArray(page) ? page : [];
    return toCommitRef(list[list.length - 1]);
  }

  async issueComments(issue: number): Promise<IssueComment[]> {
    const { items } = await this.paginate(this.repoPath(`/issues/${issue}/comments`), {}, (d) => (Array.isArray(d) ? d : []), toIssueComment, { permissions: COMMENT_PERMISSIONS });
    return items;
  }

  async createIssueComment(issue: number, body: string): Promise<IssueComment> {
    const res = await this.request('POST', this.repoPath(`/issues/${issue}/comments`), { body: { body }, permissions: COMMENT_PERMISSIONS });
    return toIssueComment(res.data) ?? { id: 0, body, byBot: true };
  }

  async updateIssueComment(id: number, body: string): Promise<IssueComment> {
    const res = await this.request('PATCH', this.repoPath(`/issues/comments/${id}`), { body: { body }, permissions: COMMENT_PERMISSIONS });
    return toIssueComment(res.data) ?? { id, body, byBot: true };
  }

  private failure(what: string, response: HttpResponse, needs?: string): GitHubApiError {
    let detail = '';
    try {
      const parsed = JSON.parse(response.body.toString('utf8')) as { message?: unknown };
      if (typeof parsed.message === 'string') detail = ` (${clip(parsed.message, 200)})`;
    } catch {
      // no JSON message
    }
    const permissions = `the workflow needs ${needs ?? "'permissions: contents: read' (and 'pull-requests: read' for pull request events)"}`;
    const status = response.status;
    if (status === 401) {
      return new GitHubApiError(status, `${what} answered 401${detail}: the 'github-token' input was refused; leave it at its default (\${{ github.token }}) or pass a valid token`);
    }
    if (status === 403 || status === 429) {
      if (response.headers.get('x-ratelimit-remaining') === '0' || status === 429) {
        const reset = Number(response.headers.get('x-ratelimit-reset'));
        const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
        return new GitHubApiError(status, `${what} answered ${status}${detail}: the GitHub API rate limit is used up${when}; pass 'github-token' (its default \${{ github.token }} has a higher limit) or check out with fetch-depth: 0 so local git answers instead`);
      }
      return new GitHubApiError(status, `${what} answered 403${detail}: the 'github-token' lacks permission; ${permissions}`);
    }
    if (status === 404) {
      return new GitHubApiError(status, `${what} answered 404${detail}: the repository, commit or pull request was not found, or the 'github-token' cannot read it; ${permissions}`);
    }
    if (status === 422) {
      return new GitHubApiError(status, `${what} answered 422${detail}: GitHub could not compare these commits (one may no longer exist after a force push)`);
    }
    return new GitHubApiError(status, `${what} answered ${status}${detail}`);
  }
}
