import { PLATFORMS } from '../../src/model/platforms.js';
import { platformTextInput } from '../../src/sources/inline.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { updateReadme } from '../../src/tools/readme-tables.js';
import { REPO_ROOT } from '../support/action.js';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const action = parse(read('action.yml')) as { inputs: Record<string, { description?: string }>; outputs: Record<string, { description?: string }> };

describe('README and action.yml agree', () => {
  it('the inputs and outputs tables are generated from action.yml (npm run readme)', () => {
    const readme = read('README.md');
    expect(updateReadme(readme, read('action.yml')), 'README tables are stale: run npm run readme').toBe(readme);
  });

  it('every input and output has a description', () => {
    for (const [name, spec] of [...Object.entries(action.inputs), ...Object.entries(action.outputs)]) {
      expect(spec.description, name).toMatch(/\w{3,}/);
    }
  });

  it('the code reads exactly the inputs action.yml declares', () => {
    const source = readdirSync(join(REPO_ROOT, 'src'), { recursive: true })
      .filter((f) => String(f).endsWith('.ts'))
      .map((f) => read(join('src', String(f))))
      .join('\n');
    // Inputs are read through the one reader in inputs.ts: r.str('name'), r.bool('name') …
    const names = new Set([...source.matchAll(/\br\.(?:str|text|bool|choice|seconds|count|url|yamlList)\('([a-z0-9-]+)'/g)].map((m) => m[1]!));
    // …and pairs of inputs naming one thing: strongRef(r, 'x-uri', 'x-cid').
    for (const m of source.matchAll(/\bstrongRef\(r, '([a-z0-9-]+)', '([a-z0-9-]+)'\)/g)) names.add(m[1]!).add(m[2]!);
    // …and one text input per platform, read as r.text(platformTextInput(platform)).
    expect(source).toMatch(/r\.text\(input\)/);
    for (const platform of PLATFORMS) names.add(platformTextInput(platform));
    expect([...names].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('the outputs the code sets are the ones action.yml declares', async () => {
    const { buildOutputs } = await import('../../src/report/outputs.js');
    expect(Object.keys(buildOutputs([]).outputs).sort()).toEqual(Object.keys(action.outputs).sort());
  });

  it('the README examples use only real inputs', () => {
    const used = actionInputsUsed(read('README.md'));
    expect(used.length).toBeGreaterThan(10);
    for (const name of used) expect(Object.keys(action.inputs), `README uses unknown input '${name}'`).toContain(name);
  });
});

/** The `with:` keys of every `uses: letmepost/letmepost-action@…` step in a document. */
export function actionInputsUsed(doc: string): string[] {
  const lines = doc.split('\n');
  const keys: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/uses:\s*letmepost\/letmepost-action@/.test(lines[i]!)) continue;
    let j = i + 1;
    while (j < lines.length && !/^\s*with:\s*$/.test(lines[j]!) && !/^\s*- /.test(lines[j]!)) j++;
    if (j >= lines.length || !/with:/.test(lines[j]!)) continue;
    const indent = lines[j]!.search(/\S/) + 2;
    for (let k = j + 1; k < lines.length; k++) {
      const line = lines[k]!;
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      const at = line.search(/\S/);
      if (at < indent) break;
      const key = at === indent ? /^\s*([a-z][a-z0-9-]*):/.exec(line)?.[1] : undefined;
      if (key) keys.push(key);
    }
  }
  return keys;
}
