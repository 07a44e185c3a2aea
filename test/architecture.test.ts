/**
 * The shape of the source, as .github/ARCHITECTURE.md draws it: one pipeline whose imports flow
 * one way, publishers the orchestration never names, keys made in one file, small modules.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/action.js';
import { YAML_INPUTS } from '../src/sources/inline.js';

const SRC = join(REPO_ROOT, 'src');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** A file's place in the pipeline: its folder under src/, or its own name for top-level files. */
function areaOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.ts$/, '');
}

/**
 * Higher layers may import lower ones, never the reverse. `report` and `ledger` sit beside
 * `plan`: they read planned targets and results, and nothing below them reads them.
 */
const LAYER: Readonly<Record<string, number>> = {
  index: 9,
  main: 8,
  run: 7,
  deliver: 7,
  lifecycle: 7,
  settings: 6,
  sources: 5,
  plan: 4,
  ledger: 4,
  report: 4,
  publishers: 3,
  io: 2,
  text: 2,
  model: 1,
  errors: 0,
  secrets: 0,
  context: 0,
};

interface Edge {
  from: string;
  to: string;
  fromArea: string;
  toArea: string;
}

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g), ...text.matchAll(/import\(\s*(?:\/\*[^*]*\*\/\s*)?'(\.{1,2}\/[^']+)'\s*\)/g)].map((m) => m[1]!);
  return specs.map((spec) => {
    const to = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    return { from: relative(SRC, file), to: relative(SRC, to), fromArea: areaOf(file), toArea: areaOf(to) };
  });
}

const files = sourceFiles().filter((f) => !relative(SRC, f).startsWith('tools/'));
const edges = files.flatMap(importsOf);

describe('the shape of the source', () => {
  it('every file belongs to a known layer', () => {
    expect(files.map(areaOf).filter((a) => LAYER[a] === undefined)).toEqual([]);
  });

  it('imports flow one way: main → run → sources → plan → publishers → io, with report beside', () => {
    const upward = edges.filter((e) => e.fromArea !== e.toArea && LAYER[e.toArea]! > LAYER[e.fromArea]!).map((e) => `${e.from} imports ${e.to}`);
    expect(upward).toEqual([]);
    // Sideways between peers of one layer is a cycle waiting to happen, except where listed.
    const sideways = edges.filter((e) => e.fromArea !== e.toArea && LAYER[e.toArea] === LAYER[e.fromArea] && !(['run>deliver', 'run>lifecycle', 'lifecycle>deliver'].includes(`${e.fromArea}>${e.toArea}`))).map((e) => `${e.from} imports ${e.to}`);
    expect(sideways).toEqual([]);
  });

  it('a publisher folder is self-contained: it imports no other publisher', () => {
    const crossing = edges.filter((e) => {
      const from = e.from.match(/^publishers\/([^/]+)\//)?.[1];
      const to = e.to.match(/^publishers\/([^/]+)\//)?.[1];
      return from !== undefined && to !== undefined && from !== to;
    });
    expect(crossing.map((e) => `${e.from} imports ${e.to}`)).toEqual([]);
  });

  it('the orchestration reaches publishers only through the registry and the shared types', () => {
    const outside = edges.filter((e) => !e.from.startsWith('publishers/') && /^publishers\/[^/]+\//.test(e.to)).map((e) => `${e.from} imports ${e.to}`);
    expect(outside).toEqual([]);
  });

  it('no publisher is named in a comparison in run, main, deliver, plan/ or report/', () => {
    const names = ['letmepost', 'bluesky', 'mastodon', 'x', 'twitter'];
    const compared = new RegExp(`(?:===|!==|==|!=)\\s*'(?:${names.join('|')})'|'(?:${names.join('|')})'\\s*(?:===|!==|==|!=)|case\\s+'(?:${names.join('|')})'`);
    const hits = files
      .filter((f) => /^(run|main|deliver|lifecycle)\.ts$|^(plan|report)\//.test(relative(SRC, f)))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (compared.test(line) ? [`${relative(SRC, f)}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(hits).toEqual([]);
  });

  it('keys are made only in plan/keys.ts', () => {
    // The helpers that make keys, and the raw material of one: the run's identity hashed.
    const makers = /\b(?:childKey|inlinePostKey|filePostKey|explicitKey|targetKeys|replacementKeys)\s*\(/;
    const hits = files
      .filter((f) => relative(SRC, f) !== 'plan/keys.ts')
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (makers.test(line) && !/^\s*(?:\*|\/\/|import)/.test(line) ? [`${relative(SRC, f)}:${i + 1}`] : [])),
      );
    // plan/plan.ts is where a target's keys are asked for; lifecycle.ts asks only for the keys
    // of a queued post's replacement, which depend on the post the ledger holds.
    expect(hits.filter((h) => !h.startsWith('plan/plan.ts:') && !/^lifecycle\.ts:\d+$/.test(h))).toEqual([]);
    expect(hits.filter((h) => h.startsWith('lifecycle.ts:'))).toHaveLength(1);
  });

  it('every input read as YAML is one main.ts loads the YAML parser for (YAML_INPUTS)', () => {
    // The parser is loaded only for those inputs (io/yaml.ts); one read without it would stop the run.
    const read = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\.yamlList\('([a-z-]+)'/g)].map((m) => m[1]!));
    expect(read.length).toBeGreaterThan(0);
    expect([...new Set(read)].sort()).toEqual([...YAML_INPUTS].sort());
  });

  it('no source file is over 400 lines', () => {
    const long = sourceFiles()
      .map((f) => [relative(SRC, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 400);
    expect(long).toEqual([]);
  });

  it('comments cite files that exist in the repository', () => {
    const cited = sourceFiles().flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/design §|letmepost-api\.md|\.\.\/shared\//g)].map(() => relative(SRC, f)));
    expect(cited).toEqual([]);
  });
});
