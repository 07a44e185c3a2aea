/**
 * The GitHub Actions run context, read from the runner's environment and event file.
 * Pure apart from reading the event file, so tests build contexts from plain objects.
 */
import { readFileSync } from 'node:fs';

export type EventPayload = Record<string, unknown>;

export interface RunContext {
  /** owner/name */
  repository: string;
  sha: string;
  ref: string;
  /** The workflow file path (`.github/workflows/x.yml`), else its name: stable across runs. */
  workflow: string;
  job: string;
  /** The step's id (`GITHUB_ACTION`): distinguishes two uses of the action in one job. */
  step: string;
  eventName: string;
  payload: EventPayload;
  workspace: string;
  serverUrl: string;
  /** The runner's temporary directory (RUNNER_TEMP), emptied after the job: downloads go there. */
  tempDir?: string;
  apiUrl: string;
  /** Part of an inline post's key: the same for every attempt of a run, new for every new run. */
  runId: string;
  /** For logs only: never part of an idempotency key (a re-run must collide). */
  runAttempt: string;
}

function workflowIdentity(env: NodeJS.ProcessEnv): string {
  // GITHUB_WORKFLOW_REF is `owner/repo/.github/workflows/file.yml@refs/heads/main`; the ref
  // is dropped so that the same workflow file is one identity whatever ref triggered it.
  const ref = env.GITHUB_WORKFLOW_REF;
  if (ref) {
    const path = ref.replace(/@[^@]*$/, '');
    const at = path.indexOf('/.github/');
    return at >= 0 ? path.slice(at + 1) : path;
  }
  return env.GITHUB_WORKFLOW ?? '';
}

export function readEventPayload(path: string | undefined): EventPayload {
  if (!path) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as EventPayload) : {};
  } catch {
    return {};
  }
}

export function runContextFromEnv(env: NodeJS.ProcessEnv, payload: EventPayload = readEventPayload(env.GITHUB_EVENT_PATH)): RunContext {
  return {
    repository: env.GITHUB_REPOSITORY ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    workflow: workflowIdentity(env),
    job: env.GITHUB_JOB ?? '',
    step: env.GITHUB_ACTION ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload,
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    ...(env.RUNNER_TEMP ? { tempDir: env.RUNNER_TEMP } : {}),
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
  };
}
