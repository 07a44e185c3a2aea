import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/action.js';

describe('the committed bundle', () => {
  it('dist/ is exactly what a fresh build of the source produces, every chunk of it', () => {
    const out = mkdtempSync(join(tmpdir(), 'lmpa-dist-'));
    // The same steps as `npm run build`, into another directory.
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
    execFileSync(process.execPath, ['.build/tools/build-dist.js', out], { cwd: REPO_ROOT, stdio: 'pipe' });

    const committed = readdirSync(join(REPO_ROOT, 'dist')).sort();
    expect(committed).toEqual(readdirSync(out).sort());
    expect(committed.filter((f) => f.endsWith('.js')).length, 'one entry and a chunk per publisher').toBeGreaterThanOrEqual(4);
    for (const file of committed) {
      const same = readFileSync(join(REPO_ROOT, 'dist', file)).equals(readFileSync(join(out, file)));
      expect(same, `dist/${file} differs from a fresh build: run npm run build and commit dist/`).toBe(true);
    }
  }, 120_000);

  it('every chunk is minified ASCII: nothing the runner or an editor could misread', () => {
    for (const file of readdirSync(join(REPO_ROOT, 'dist')).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(REPO_ROOT, 'dist', file), 'utf8');
      expect(/^[\x00-\x7f]*$/.test(text), `dist/${file} has non-ASCII characters`).toBe(true);
      // Minified: long lines (template literals keep their own line breaks, nothing else does).
      expect(text.split('\n').length, `dist/${file} is not minified`).toBeLessThanOrEqual(1 + text.length / 500);
    }
  });

  it('action.yml runs the bundle on node24', () => {
    const yml = readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8');
    expect(yml).toMatch(/using: 'node24'/);
    expect(yml).toMatch(/main: 'dist\/index.js'/);
  });
});
