/**
 * Issue comments on the fake GitHub, as GitHub answers them:
 *   GET   /repos/{owner}/{repo}/issues/{n}/comments      oldest first, paginated (per_page ≤ 100, Link rel="next")
 *   POST  /repos/{owner}/{repo}/issues/{n}/comments      201 with the comment; 422 over 65,536 characters
 *   PATCH /repos/{owner}/{repo}/issues/comments/{id}     200 with the comment; 404 for an unknown id
 * A token's comments are the bot's (`github-actions[bot]`, type Bot); `addComment` adds a
 * person's. `denyWrites` answers 403 like a read-only token (a fork's pull request).
 */
import type { FakeAnswer, FakeGitHub } from './fake-github.js';

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
  html_url: string;
}

const MAX_BODY = 65_536;

export class FakeIssueComments {
  readonly comments: FakeComment[] = [];
  denyWrites = false;
  private ids = 1000;

  constructor(private readonly github: FakeGitHub) {
    const repo = github.repository.replace('/', '\\/');
    github.route('GET', new RegExp(`^/repos/${repo}/issues/(\\d+)/comments$`), (_req, m, url) => this.list(Number(m[1]), url));
    github.route('POST', new RegExp(`^/repos/${repo}/issues/(\\d+)/comments$`), (req, m) => this.create(Number(m[1]), req.body));
    github.route('PATCH', new RegExp(`^/repos/${repo}/issues/comments/(\\d+)$`), (req, m) => this.update(Number(m[1]), req.body));
  }

  /** A comment written by a person (not the workflow's token). */
  addComment(issue: number, body: string, login = 'octocat'): FakeComment {
    return this.store(issue, body, { login, type: 'User' });
  }

  on(issue: number): FakeComment[] {
    return this.comments.filter((c) => c.issue === issue);
  }

  private store(issue: number, body: string, user: FakeComment['user']): FakeComment {
    const id = ++this.ids;
    const comment = { id, issue, body, user, html_url: `https://github.com/${this.github.repository}/pull/${issue}#issuecomment-${id}` };
    this.comments.push(comment);
    return comment;
  }

  private list(issue: number, url: URL): FakeAnswer {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const page = Number(url.searchParams.get('page') ?? 1);
    const all = this.on(issue);
    const body = all.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < all.length) {
      const next = new URL(url.toString());
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${this.github.url}${next.pathname}${next.search}>; rel="next"`;
    }
    return { status: 200, body, headers };
  }

  private create(issue: number, raw: string): FakeAnswer {
    if (this.denyWrites) return { status: 403, body: { message: 'Resource not accessible by integration' } };
    const body = (JSON.parse(raw) as { body?: unknown }).body;
    if (typeof body !== 'string') return { status: 422, body: { message: 'Invalid request.' } };
    if (body.length > MAX_BODY) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }] } };
    return { status: 201, body: this.store(issue, body, { login: 'github-actions[bot]', type: 'Bot' }) };
  }

  private update(id: number, raw: string): FakeAnswer {
    if (this.denyWrites) return { status: 403, body: { message: 'Resource not accessible by integration' } };
    const comment = this.comments.find((c) => c.id === id);
    if (!comment) return { status: 404, body: { message: 'Not Found' } };
    const body = (JSON.parse(raw) as { body?: unknown }).body;
    if (typeof body !== 'string' || body.length > MAX_BODY) return { status: 422, body: { message: 'Validation Failed' } };
    comment.body = body;
    return { status: 200, body: comment };
  }
}
