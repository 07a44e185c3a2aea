/**
 * One choke point between the action and the runner: only src/report/runner-output.ts speaks
 * the runner's protocol, so every log line, annotation, output and summary passes its
 * escaping. It writes the protocol itself, byte for byte as @actions/core does (compared here),
 * without loading @actions/core's entry and the OIDC HTTP client that comes with it.
 */
import * as core from '@actions/core';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runner } from '../src/report/runner-output.js';
import { REPO_ROOT } from './support/action.js';

const sources = readdirSync(join(REPO_ROOT, 'src'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(REPO_ROOT, 'src', f), 'utf8') }));

describe('the runner is reached through one module', () => {
  it('no module loads @actions/core (runner-output.ts speaks the protocol itself)', () => {
    expect(sources.filter((s) => /from '@actions\/core'/.test(s.text)).map((s) => s.file)).toEqual([]);
  });

  it('nothing writes to stdout or stderr by itself (the runner reads commands from both)', () => {
    const writers = sources.filter((s) => s.file !== 'report/runner-output.ts' && !s.file.startsWith('tools/') && /\bconsole\.(log|info|warn|error)\(|process\.(stdout|stderr)\.write\(/.test(s.text));
    expect(writers.map((s) => s.file)).toEqual([]);
  });
});

/** What is written to stdout, and the exit code set, while `fn` runs. */
async function printed(fn: () => unknown): Promise<{ stdout: string; exitCode: typeof process.exitCode }> {
  const chunks: string[] = [];
  const original = process.stdout.write;
  const exitCode = process.exitCode;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
    return { stdout: chunks.join(''), exitCode: process.exitCode };
  } finally {
    process.stdout.write = original;
    process.exitCode = exitCode;
  }
}

describe('runner-output.ts prints what @actions/core prints', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  // Plain text: runner-output.ts also neutralises and redacts, which @actions/core never does.
  const text = 'a message with 100% of it: here, and a, comma';
  it.each<[string, () => unknown, () => unknown]>([
    ['info', () => runner.info(text), () => core.info(text)],
    ['debug', () => runner.debug(text), () => core.debug(text)],
    ['notice', () => runner.notice(text), () => core.notice(text)],
    ['warning', () => runner.warning(text), () => core.warning(text)],
    ['an error with a file, line and column', () => runner.error(text, { title: 'Invalid post file', file: 'posts/a, b.yml', startLine: 3, startColumn: 5 }), () => core.error(text, { title: 'Invalid post file', file: 'posts/a, b.yml', startLine: 3, startColumn: 5 })],
    ['a warning with a title only', () => runner.warning(text, { title: 'Title: with, punctuation' }), () => core.warning(text, { title: 'Title: with, punctuation' })],
    ['a mask', () => runner.mask('s3cr3t%value'), () => core.setSecret('s3cr3t%value')],
    ['a failure', () => runner.failed(text), () => core.setFailed(text)],
    ['a group', () => runner.group('Post files', async () => runner.info('inside')), () => core.group('Post files', async () => core.info('inside'))],
  ])('%s', async (_name, ours, theirs) => {
    expect(await printed(ours)).toEqual(await printed(theirs));
  });

  it('an output, in the output file with a fresh delimiter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lmpa-core-'));
    const read = async (fn: () => void) => {
      const file = join(dir, `out-${Math.random()}`);
      writeFileSync(file, '');
      process.env.GITHUB_OUTPUT = file;
      await printed(fn);
      return readFileSync(file, 'utf8').replace(/ghadelimiter_[0-9a-f-]{36}/g, 'DELIMITER');
    };
    const value = 'line one\nline two: 100%';
    expect(await read(() => runner.output('results', value))).toBe(await read(() => core.setOutput('results', value)));
  });

  it('an input, trimmed, with spaces in its name as underscores', () => {
    process.env.INPUT_DRY_RUN = '  true \n';
    process.env['INPUT_TWO_WORDS'] = 'x';
    expect(runner.input('dry-run'.replace('-', '_'))).toBe(core.getInput('dry_run'));
    expect(runner.input('two words')).toBe(core.getInput('two words'));
    expect(runner.input('absent')).toBe(core.getInput('absent'));
  });

  it('the job summary, appended as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lmpa-core-'));
    const ours = join(dir, 'ours.md');
    const theirs = join(dir, 'theirs.md');
    writeFileSync(ours, '# before\n');
    writeFileSync(theirs, '# before\n');
    process.env.GITHUB_STEP_SUMMARY = ours;
    await runner.summary('### letmepost\n\n| a | b |\n');
    process.env.GITHUB_STEP_SUMMARY = theirs;
    await core.summary.addRaw('### letmepost\n\n| a | b |\n').write();
    expect(readFileSync(ours, 'utf8')).toBe(readFileSync(theirs, 'utf8'));
  });
});

