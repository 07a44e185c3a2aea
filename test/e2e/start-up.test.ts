/**
 * What a run loads (start-up, issue 15): the bundle's chunks a run evaluates, read from V8's
 * own coverage of the child process (NODE_V8_COVERAGE lists every script it compiled). A plain
 * inline post loads neither the YAML parser nor any publisher but its own; the YAML inputs
 * and post files load the parser (the control: the chunk is found by its content). Node's own
 * modules a run loads come from `process.moduleLoadList`: node:crypto and child_process
 * (~10 ms and ~6 ms of start-up) only where a run needs them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runAction } from '../support/action.js';
import { log } from '../support/scenario.js';

const DIST = join(REPO_ROOT, 'dist');
const chunkWith = (marker: string) => readdirSync(DIST).filter((f) => f.endsWith('.js') && readFileSync(join(DIST, f), 'utf8').includes(marker));
const YAML_CHUNK = chunkWith('YAMLParseError');
const LETMEPOST = { platform: 'bluesky', 'account-id': '1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'dry-run': 'true', 'letmepost-api-url': 'http://127.0.0.1:9' };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The dist files the run evaluated. */
async function loadedBy(inputs: Record<string, string>): Promise<string[]> {
  const coverage = mkdtempSync(join(tmpdir(), 'lmpa-coverage-'));
  dirs.push(coverage);
  const run = await runAction({ inputs, env: { NODE_V8_COVERAGE: coverage } });
  expect(run.code, log(run)).toBe(0);
  const urls = readdirSync(coverage).flatMap((f) => (JSON.parse(readFileSync(join(coverage, f), 'utf8')) as { result: Array<{ url: string }> }).result.map((s) => s.url));
  return [...new Set(urls.filter((u) => u.startsWith(`file://${DIST}/`)).map((u) => basename(u)))].sort();
}

describe('what a run loads', () => {
  it('the YAML parser is a chunk of its own', () => {
    expect(YAML_CHUNK).toHaveLength(1);
    expect(YAML_CHUNK[0]).not.toBe('index.js');
  });

  it('a plain inline post through letmepost: the entry and the letmepost publisher, no YAML parser', async () => {
    const loaded = await loadedBy({ text: 'widgets v1.2.0 is out', ...LETMEPOST });
    expect(loaded).not.toContain(YAML_CHUNK[0]);
    expect(loaded, 'the entry and one publisher chunk').toContain('index.js');
    expect(loaded.length, loaded.join(', ')).toBe(2);
  });

  it.each([
    ['a media input', { media: '- url: https://example.com/a.png\n  alt: A chart' }],
    ['a targets input', { platform: '', 'account-id': '', targets: '- platform: bluesky\n  account: 1b4e28ba-2fa1-11d2-883f-0016d3cca427' }],
  ])('%s loads the YAML parser', async (_, extra) => {
    expect(await loadedBy({ text: 'widgets v1.2.0 is out', ...LETMEPOST, ...extra })).toContain(YAML_CHUNK[0]);
  });
});

/** Node's built-in modules the run loaded (process.moduleLoadList at exit, through NODE_OPTIONS=--import). */
async function builtinsLoadedBy(inputs: Record<string, string>, workspace?: string): Promise<Set<string>> {
  const dir = mkdtempSync(join(tmpdir(), 'lmpa-modules-'));
  dirs.push(dir);
  const hook = join(dir, 'hook.mjs');
  const list = join(dir, 'modules.txt');
  writeFileSync(hook, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const run = await runAction({ inputs, ...(workspace ? { workspace } : {}), env: { NODE_OPTIONS: `--import=${hook}` } });
  expect(run.code, log(run)).toBe(0);
  return new Set(readFileSync(list, 'utf8').split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)));
}

describe("Node's own modules a run loads", () => {
  it('a plain inline post through letmepost loads neither node:crypto nor child_process', async () => {
    const loaded = await builtinsLoadedBy({ text: 'widgets v1.2.0 is out', ...LETMEPOST });
    expect(loaded.has('fs'), 'the list is read (control)').toBe(true);
    expect([...loaded].filter((m) => m === 'crypto' || m === 'child_process')).toEqual([]);
  });

  it('a direct X run loads node:crypto (its OAuth 1.0a signature needs HMAC-SHA1), as it must', async () => {
    const keys = { 'x-api-key': 'key', 'x-api-secret': 'secret', 'x-access-token': '1-token', 'x-access-token-secret': 'token-secret' };
    const loaded = await builtinsLoadedBy({ text: 'widgets v1.2.0 is out', platform: 'x', 'dry-run': 'true', ...keys });
    expect(loaded.has('crypto')).toBe(true);
  });
});
