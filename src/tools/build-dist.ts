/**
 * Build step: bundles .build/index.js into `<out>/` with ncc, one chunk per publisher (a run
 * loads only the publishers its targets name), then minifies every emitted chunk with oxc
 * (ncc's --minify skips split chunks; oxc keeps a module factory's parentheses, so V8
 * compiles the factories a run needs eagerly instead of parsing them twice, and writes
 * ASCII-only output), and writes the post-file JSON Schema.
 *
 *   node .build/tools/build-dist.js dist
 *
 * `npm run build` and the dist test run exactly this, so the committed dist/ is checked
 * against the same steps.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minifySync } from 'rolldown/utils';
import { postJsonSchema } from '../model/post.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.argv[2];
if (!out) throw new Error('usage: build-dist <output directory>');
const target = resolve(root, out);

rmSync(target, { recursive: true, force: true });
// The entry path is the same for every build: bundle module ids depend on it.
execFileSync(join(root, 'node_modules', '.bin', 'ncc'), ['build', '.build/index.js', '-o', target, '--license', 'licenses.txt', '--quiet'], { cwd: root, stdio: 'inherit' });

for (const file of readdirSync(target).filter((f) => f.endsWith('.js'))) {
  const path = join(target, file);
  const result = minifySync(file, readFileSync(path, 'utf8'), { module: true, compress: true, mangle: true, codegen: { removeWhitespace: true, asciiOnly: true } });
  if (result.errors.length > 0) throw new Error(`minifying ${file}: ${result.errors.map((e) => e.message).join('; ')}`);
  writeFileSync(path, result.code);
}

writeFileSync(join(target, 'post.schema.json'), `${JSON.stringify(postJsonSchema(), null, 2)}\n`);
