/**
 * One choke point between the action and the runner: only src/runner-output.ts talks to
 * @actions/core, so every log line, annotation, output and summary passes its escaping.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/action.js';

const sources = readdirSync(join(REPO_ROOT, 'src'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(REPO_ROOT, 'src', f), 'utf8') }));

describe('the runner is reached through one module', () => {
  it('only runner-output.ts imports @actions/core', () => {
    expect(sources.filter((s) => /from '@actions\/core'/.test(s.text)).map((s) => s.file)).toEqual(['report/runner-output.ts']);
  });

  it('nothing writes to stdout or stderr by itself (the runner reads commands from both)', () => {
    const writers = sources.filter((s) => s.file !== 'report/runner-output.ts' && !s.file.startsWith('tools/') && /\bconsole\.(log|info|warn|error)\(|process\.(stdout|stderr)\.write\(/.test(s.text));
    expect(writers.map((s) => s.file)).toEqual([]);
  });
});
