import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/action.js';

describe('the committed bundle', () => {
  it('dist/ is exactly what a fresh build of the source produces', () => {
    const out = mkdtempSync(join(tmpdir(), 'lmpa-dist-'));
    const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);
    // Same entry path as `npm run build` (bundle module ids depend on it); only the output differs.
    execFileSync(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
    execFileSync(bin('ncc'), ['build', '.build/index.js', '-o', out, '--minify', '--license', 'licenses.txt', '--quiet'], { cwd: REPO_ROOT, stdio: 'pipe' });
    execFileSync(process.execPath, ['.build/tools/write-schema.js', join(out, 'post.schema.json')], { cwd: REPO_ROOT, stdio: 'pipe' });

    const committed = readdirSync(join(REPO_ROOT, 'dist')).sort();
    expect(committed).toEqual(readdirSync(out).sort());
    for (const file of committed) {
      const same = readFileSync(join(REPO_ROOT, 'dist', file)).equals(readFileSync(join(out, file)));
      expect(same, `dist/${file} differs from a fresh build: run npm run build and commit dist/`).toBe(true);
    }
  }, 120_000);

  it('action.yml runs the bundle on node24', () => {
    const yml = readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8');
    expect(yml).toMatch(/using: 'node24'/);
    expect(yml).toMatch(/main: 'dist\/index.js'/);
  });
});
