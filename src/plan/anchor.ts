/**
 * The time of a commit, for publishers that need a stable time per post (Bluesky record
 * keys and createdAt): the same on every re-run, so a re-run writes the same record.
 */
import type { RunContext } from '../context.js';

/** Commit time (epoch ms) from the local clone, if the commit is there. */
export async function localCommitTime(workspace: string, sha: string): Promise<number | undefined> {
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) return undefined;
  try {
    // Loaded here: most runs never ask git (start-up: child_process and its streams cost ~6 ms).
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { stdout } = await promisify(execFile)('git', ['-C', workspace, 'show', '-s', '--format=%ct', sha], { timeout: 10_000 });
    const seconds = Number(stdout.trim());
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Commit time from the event payload: push events carry their head commit's timestamp. */
export function payloadCommitTime(ctx: Pick<RunContext, 'payload' | 'sha'>, sha: string): number | undefined {
  const head = ctx.payload.head_commit as { id?: unknown; timestamp?: unknown } | undefined;
  if (head && head.id === sha && typeof head.timestamp === 'string') {
    const ms = Date.parse(head.timestamp);
    if (!Number.isNaN(ms)) return ms;
  }
  const commits = ctx.payload.commits;
  if (Array.isArray(commits)) {
    for (const c of commits as Array<{ id?: unknown; timestamp?: unknown }>) {
      if (c.id === sha && typeof c.timestamp === 'string' && !Number.isNaN(Date.parse(c.timestamp))) return Date.parse(c.timestamp);
    }
  }
  return undefined;
}

/** Where a commit's time comes from; `why` says what failed when none answered. */
export interface AnchorSource {
  commitTime(sha: string): Promise<{ time: number } | { why: string }>;
}

/**
 * A commit's time from the checkout, else the event payload, else the GitHub API (which needs
 * only contents: read): an inline post needs no checkout. Each commit is asked once.
 */
export function commitTimes(ctx: Pick<RunContext, 'workspace' | 'payload' | 'sha'>, api: () => { commitTime(sha: string): Promise<number | undefined> }): AnchorSource {
  const known = new Map<string, Promise<{ time: number } | { why: string }>>();
  return {
    commitTime(sha) {
      let pending = known.get(sha);
      if (!pending) {
        pending = (async () => {
          const local = (await localCommitTime(ctx.workspace, sha)) ?? payloadCommitTime(ctx, sha);
          if (local !== undefined) return { time: local };
          try {
            const time = await api().commitTime(sha);
            return time !== undefined ? { time } : { why: 'the GitHub API has no time for it' };
          } catch (error) {
            return { why: `the GitHub API answered: ${error instanceof Error ? error.message : String(error)}` };
          }
        })();
        known.set(sha, pending);
      }
      return pending;
    },
  };
}
