/**
 * The action as a straight line: plan (which posts, which targets, which keys) → check
 * (credentials, the ledger) → publish → report. Everything it touches comes in through
 * `RunDeps`, so a test runs the whole action in-process against fakes. It never names a
 * publisher: what differs between them is in their descriptors (publishers/registry.ts).
 */
import type { RunContext } from './context.js';
import { deliver } from './deliver.js';
import { errorMessage, InputError, PostFileError } from './errors.js';
import { GitHubRestClient, type GitHubRestOptions } from './io/github-api.js';
import { commitStatusApi, Ledger } from './ledger/ledger.js';
import { commitTimes, type AnchorSource } from './plan/anchor.js';
import { planPost } from './plan/plan.js';
import { scheduleLeadProblem } from './plan/preflight.js';
import type { Platform } from './model/platforms.js';
import { createPublishers as registryPublishers, credentialErrors, descriptorFor, descriptorOf, PUBLISHERS } from './publishers/registry.js';
import type { Log, PlannedTarget, Publisher, PublisherKind, TargetResult } from './publishers/types.js';
import { mdCode } from './report/markdown.js';
import { buildOutputs, summaryTable } from './report/outputs.js';
import { commentPreview, type PreviewContent } from './report/pr-comment.js';
import { plannedOperation, renderPreview } from './report/preview.js';
import type { AnnotationProps } from './report/runner-output.js';
import type { Settings } from './settings/settings.js';
import { inlineSource, loadInline, unannouncedRelease } from './sources/inline.js';
import { inlineIdentityNote } from './plan/keys.js';
import { withReleaseOfTag } from './sources/tag-release.js';

/** Independent targets are published concurrently, but not all at once. */
const CONCURRENCY = 4;

type Problem = InputError | PostFileError;

/** What the action tells the runner (report/runner-output.ts makes every text safe). */
export interface RunnerPort {
  info(message: string): void;
  debug(message: string): void;
  notice(message: string): void;
  warning(message: string, props?: AnnotationProps): void;
  error(message: string, props?: AnnotationProps): void;
  failed(message: string): void;
  output(name: string, value: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  summary(markdown: string): Promise<void>;
}

export interface RunDeps {
  out: RunnerPort;
  /** Epoch ms; the run's start decides schedule leads and the deadline. */
  now?: () => number;
  /** The GitHub REST client (ledger, commit history, commit times). */
  github?: (opts: GitHubRestOptions) => GitHubRestClient;
  createPublishers?: typeof registryPublishers;
}

interface Plan {
  /** preview: pull requests — validate and render, never publish. */
  mode: 'publish' | 'preview';
  targets: PlannedTarget[];
  fromFiles: boolean;
  /** The publishers the posts name, planned or not: missing credentials are reported with every other problem. */
  kinds: Set<PublisherKind>;
}

function kindsOf(posts: Array<{ targets: ReadonlyArray<{ platform: Platform; account: string }> }>): Set<PublisherKind> {
  return new Set(posts.flatMap((post) => post.targets.map((t) => descriptorFor(t).kind)));
}

/** Everything a run shares: settings, context, the runner, the clock, the deadline. */
interface Run {
  settings: Settings;
  ctx: RunContext;
  out: RunnerPort;
  log: Log;
  started: number;
  deadline: number;
  github: (token?: string) => GitHubRestClient;
  createPublishers: typeof registryPublishers;
}

/**
 * Commit times anchor record keys. Publishing asks the GitHub API when the checkout and the
 * event have none; a dry run or preview does not (its record keys are marked provisional).
 */
function anchorsFor(run: Run, publishing: boolean): AnchorSource {
  return commitTimes(run.ctx, () =>
    publishing ? run.github(run.settings.githubToken) : { commitTime: () => Promise.reject(new Error('not asked in a dry run or preview')) },
  );
}

/** Media downloaded before sending (a dry run too: it checks them): release assets through the GitHub API with github-token; images of the notes by their public URL, without it. */
const downloadsFor = (run: Run) => ({ releaseAsset: (id: number, maxBytes: number) => run.github(run.settings.githubToken).releaseAsset(id, maxBytes), image: async (url: string, maxBytes: number) => (await import('./plan/notes-images.js')).downloadPublicImage(run.settings.requestTimeoutSeconds * 1000)(url, maxBytes) });

async function planInline(run: Run, errors: Problem[]): Promise<Plan> {
  const { settings, ctx } = run;
  const publishing = !settings.dryRun;
  const loaded = loadInline(settings.inline!, ctx, settings.inlineTargetsList);
  if ('errors' in loaded) {
    errors.push(...loaded.errors);
    return { mode: 'publish', targets: [], fromFiles: false, kinds: new Set() };
  }
  const opts = { ctx, maxThreadPosts: settings.maxThreadPosts, anchors: anchorsFor(run, publishing), requireAnchor: publishing, downloads: downloadsFor(run), ...(settings.idempotencyKey !== undefined ? { idempotencyKey: settings.idempotencyKey } : {}) };
  const targets = await planPost(loaded.post, inlineSource(ctx, settings.inlineTargetsList, loaded.post.targets), opts, errors);
  if (targets.length > 0) run.log.info(inlineIdentityNote(ctx, targets[0]!.scheduledAt, settings.idempotencyKey !== undefined));
  return { mode: 'publish', targets, fromFiles: false, kinds: kindsOf([loaded.post]) };
}

/** Post files: which ones this run handles, validated at file:line, each post's targets planned. */
async function planFiles(run: Run, errors: Problem[]): Promise<Plan> {
  const { settings, ctx, out, log } = run;
  const loaded = await out.group('Post files', async () => {
    // Post files' code (git, globs, YAML positions) is loaded only by runs that read post files.
    const result = await (await import('./sources/files.js')).loadPostFiles({ ctx, settings, deadline: run.deadline, api: run.github(settings.githubToken) });
    for (const note of result.notes) log.info(note);
    out.info(result.files.length ? `Post files: ${result.files.join(', ')}` : 'No post files to handle in this run.');
    return result;
  });
  for (const warning of loaded.warnings) log.warning(warning);
  errors.push(...loaded.errors);
  const publishing = loaded.mode === 'publish' && !settings.dryRun;
  const opts = { ctx, maxThreadPosts: settings.maxThreadPosts, anchors: anchorsFor(run, publishing), requireAnchor: publishing, downloads: downloadsFor(run) };
  const targets: PlannedTarget[] = [];
  for (const file of loaded.posts) targets.push(...(await planPost(file.post, file.source, opts, errors)));
  return { mode: loaded.mode, targets, fromFiles: true, kinds: kindsOf(loaded.posts.map((file) => file.post)) };
}

function createLedger(run: Run, targets: PlannedTarget[]): Ledger {
  const { settings, log } = run;
  if (settings.ledger === 'off') return new Ledger(undefined, log);
  if (!settings.githubToken) {
    if (targets.length === 0) return new Ledger(undefined, log);
    log.warning(
      `No 'github-token': the durable ledger is off, so re-runs are protected only within each platform's idempotency window (${windowsText()}). Pass github-token: \${{ github.token }} with 'permissions: statuses: write'.`,
    );
    return new Ledger(undefined, log);
  }
  return new Ledger(commitStatusApi(run.github(settings.githubToken)), log, run.deadline);
}

/** "letmepost 24 h, Mastodon ~1 h": each publisher whose platform forgets keys after a while. */
function windowsText(kinds: Iterable<PublisherKind> = PUBLISHERS.map((d) => d.kind)): string {
  return [...kinds]
    .map(descriptorOf)
    .filter((d) => d.idempotencyWindowBrief !== undefined)
    .sort((a, b) => b.idempotencyWindowMs - a.idempotencyWindowMs)
    .map((d) => d.idempotencyWindowBrief)
    .join(', ');
}

/** Targets whose platform remembers a key only for a while: the ledger alone stops an old post going out again. */
function forgetful(targets: PlannedTarget[]): PlannedTarget[] {
  return targets.filter((t) => Number.isFinite(descriptorOf(t.publisher).idempotencyWindowMs));
}

/**
 * A queue that re-reads every file (`select: all`) relies on the ledger for publishers whose
 * own guarantee ends after a while: without it, old posts would go out again.
 */
async function unsafeQueueErrors(run: Run, targets: PlannedTarget[], ledger: Ledger): Promise<InputError[]> {
  if (run.settings.select !== 'all') return [];
  const bounded = forgetful(targets);
  if (bounded.length === 0) return [];
  const commit = bounded.find((t) => t.ledgerCommit)?.ledgerCommit;
  if (commit && (await ledger.readable(commit))) return [];
  const kinds = [...new Set(bounded.map((t) => t.publisher))];
  const names = kinds.join(' and ');
  return [
    new InputError(
      'select',
      `Input 'select' is 'all', which re-reads every post file on each run; ${names} ${kinds.length > 1 ? 'remember' : 'remembers'} a post only for a while (${windowsText()}), so without the durable ledger old posts would be posted again. Enable the ledger (github-token with 'permissions: statuses: write', and ledger: commit-status), or use select: added (the default) for ${names} posts`,
    ),
  ];
}

function reportProblems(out: RunnerPort, errors: Problem[]): void {
  for (const error of errors) {
    if (error instanceof PostFileError) {
      out.error(error.message, {
        title: 'Invalid post file',
        file: error.position.file,
        ...(error.position.line !== undefined ? { startLine: error.position.line } : {}),
        ...(error.position.column !== undefined ? { startColumn: error.position.column } : {}),
      });
    } else {
      out.error(error.message, { title: error.title });
    }
  }
}

/** Whether a target edits, retracts or cancels an earlier post instead of publishing (lifecycle.ts). */
function changesPost(t: PlannedTarget): boolean {
  return t.operation !== undefined && t.operation.kind !== 'publish';
}

/** Runs tasks with at most `limit` in flight; results keep the input order. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Sets the outputs; a value a server gave in a shape no such value has is left out, with a warning. */
function writeOutputs(run: Run, results: TargetResult[]): void {
  const { outputs, dropped } = buildOutputs(results);
  for (const [name, value] of Object.entries(outputs)) run.out.output(name, value);
  if (dropped.length > 0) run.log.warning(`Left out of the outputs, since a server answered them in a shape no such value has (a hostile or broken server?): ${dropped.join(', ')}`);
}

/** Preview (pull requests) and dry runs: render everything, send nothing. */
async function validateOnly(run: Run, plan: Plan, kinds: Set<PublisherKind>): Promise<void> {
  const { settings, out, log, targets } = { ...run, targets: plan.targets };
  const warnings: string[] = [];
  for (const t of targets) {
    const tooSoon = t.scheduledAtAsWritten !== undefined ? scheduleLeadProblem(t.scheduledAtAsWritten, t.publisher, run.started) : undefined;
    if (tooSoon !== undefined) warnings.push(`${t.label} → ${t.platform}: 'scheduledAt' ${tooSoon}. It is refused when published, unless an earlier run already queued it`);
  }
  for (const w of warnings) log.warning(w);
  // Only a dry run shows requests; a preview needs no publisher (nor any SDK).
  const publishers = settings.dryRun ? await run.createPublishers(kinds, settings, publisherEnv(run)) : new Map<PublisherKind, Publisher>();
  const results: TargetResult[] = [];
  const requests = new Map<PlannedTarget, unknown>();
  for (const t of targets) {
    const changing = changesPost(t);
    // A dry run shows publish requests; what an edit, retract or cancel does is in the preview table.
    if (settings.dryRun && changing) out.info(`${t.label} → ${t.platform}: ${plannedOperation(t)} (nothing is sent)`);
    if (settings.dryRun && !changing) {
      const request = await publishers.get(t.publisher)!.describe(t);
      requests.set(t, request);
      out.info(`${t.label} → ${t.platform}: the request that would be sent (nothing is sent):\n${JSON.stringify(request, null, 2)}`);
    }
    results.push({ label: t.label, publisher: t.publisher, platform: t.platform, status: 'validated', idempotencyKey: t.idempotencyKey, replayed: false, warnings: [], ...(t.scheduledAt ? { scheduledAt: t.scheduledAt } : {}) });
  }
  writeOutputs(run, results);
  const heading = plan.mode === 'preview' ? 'letmepost: preview (posts are published when merged)' : 'letmepost: dry run (nothing was sent)';
  const foreseen = await foresee(run, targets);
  await out.summary(`### ${heading}\n\n${renderPreview(targets, requests, undefined, undefined, foreseen)}\n`);
  out.info(targets.length ? `${targets.length} post target${targets.length > 1 ? 's' : ''} validated; nothing was sent.` : 'Nothing to validate.');
  if (plan.mode === 'preview') await previewComment(run, targets.length > 0 ? { targets, problems: [], warnings, foreseen } : undefined);
}

/**
 * For a preview: what each target that edits, retracts or cancels will do to its existing
 * post, from the ledger (read only: `statuses: read` is enough, and a preview never writes).
 * Best effort: without a token or the ledger, the preview says what the operation does in general.
 */
async function foresee(run: Run, targets: PlannedTarget[]): Promise<Map<PlannedTarget, string>> {
  const foreseen = new Map<PlannedTarget, string>();
  const changing = targets.filter((t) => changesPost(t) && t.ledgerCommit !== undefined);
  if (changing.length === 0 || !run.settings.githubToken || run.settings.ledger === 'off') return foreseen;
  // A ledger that cannot be read is no problem of a preview: it is said in the log only.
  const quiet = { ...run.log, warning: (m: string) => run.log.info(m) };
  const ledger = new Ledger(commitStatusApi(run.github(run.settings.githubToken)), quiet, run.deadline);
  const { foreseenOperation } = await import('./lifecycle.js');
  for (const t of changing) {
    const said = foreseenOperation(t, await ledger.lookup(t));
    if (said !== undefined) foreseen.set(t, said);
  }
  return foreseen;
}

/** On a pull request, the preview in one comment too (report/pr-comment.ts); `content` undefined: nothing to preview. */
function previewComment(run: Run, content: PreviewContent | undefined): Promise<void> {
  const { settings, out, log } = run;
  return commentPreview(run.ctx, { enabled: settings.previewComment, ...(settings.githubToken ? { token: settings.githubToken } : {}), api: (token) => run.github(token), info: (m) => log.info(m), notice: (m) => out.notice(m) }, content);
}

function publisherEnv(run: Run) {
  return { deadline: run.deadline, log: run.log, requestTimeoutMs: run.settings.requestTimeoutSeconds * 1000 };
}

/** Reports every result; failures turn the job red with a title that says what a re-run does. */
function reportResults(run: Run, plan: Plan, results: TargetResult[], unrecorded: PlannedTarget[]): void {
  const { out, settings } = run;
  // A queue (`select: all`) re-reads every file on each run: where a platform forgets keys,
  // only the ledger keeps an old post from going out again, so an unrecorded one turns the job red.
  const unsafe = plan.fromFiles && settings.select === 'all' ? forgetful(unrecorded) : [];
  if (unsafe.length > 0) {
    out.failed(
      `Published, but not recorded in the ledger: ${unsafe.map((t) => `${t.label} → ${t.platform}`).join(', ')}. With select: all, a run after the platform's idempotency window would post ${unsafe.length > 1 ? 'them' : 'it'} again; give the job 'permissions: statuses: write' and re-run it (the re-run records ${unsafe.length > 1 ? 'them' : 'it'} without posting again).`,
    );
  }
  const failed = results.filter((r) => r.status === 'failed' || r.status === 'rejected' || r.status === 'unknown');
  if (failed.length === 0) return;
  for (const r of failed) {
    const where = `${r.label} → ${r.platform}`;
    const message = r.error?.startsWith(where) ? r.error : `${where}: ${r.error ?? r.status}`;
    const title = r.status === 'unknown' ? `${r.platform}: may have been posted` : r.status === 'failed' ? `${r.platform}: not posted (transient; re-run to retry)` : `Not posted to ${r.platform}`;
    out.error(message, { title });
  }
  const done = results.length - failed.length;
  out.failed(`${failed.length} of ${results.length} post target${results.length > 1 ? 's' : ''} failed${done ? ` (${done} succeeded)` : ''}; see the errors above.`);
}

/** Runs the action once: plans, checks, publishes (or previews) and reports. Never throws. */
export async function run(settings: Settings, inputErrors: InputError[], ctx: RunContext, deps: RunDeps): Promise<void> {
  const { out } = deps;
  try {
    await runAction(settings, inputErrors, ctx, deps);
  } catch (error) {
    out.failed(`letmepost-action stopped unexpectedly: ${errorMessage(error)}`);
  }
}

async function runAction(settings: Settings, inputErrors: InputError[], given: RunContext, deps: RunDeps): Promise<void> {
  const { out } = deps;
  const started = (deps.now ?? Date.now)();
  const deadline = started + settings.timeoutSeconds * 1000;
  const makeClient = deps.github ?? ((opts: GitHubRestOptions) => new GitHubRestClient(opts));
  const github = (token?: string) => makeClient({ apiUrl: given.apiUrl, repository: given.repository, deadline, ...(token ? { token } : {}) });
  // A run started by hand on a release's tag announces that release (sources/tag-release.ts).
  const ctx = await withReleaseOfTag(given, github(settings.githubToken), out);
  const run: Run = {
    settings,
    ctx,
    out,
    log: { info: (m) => out.info(m), warning: (m) => out.warning(m), debug: (m) => out.debug(m) },
    started,
    deadline,
    github,
    createPublishers: deps.createPublishers ?? registryPublishers,
  };
  out.debug(`Context: repository=${ctx.repository} sha=${ctx.sha} workflow=${ctx.workflow} job=${ctx.job} step=${ctx.step} event=${ctx.eventName} run=${ctx.runId}#${ctx.runAttempt}`);

  // A release the step does not announce (a draft, a skipped prerelease) sends nothing and is no failure.
  const unannounced = inputErrors.length === 0 && settings.inline ? unannouncedRelease(ctx, settings.onPrerelease) : undefined;
  if (unannounced !== undefined) {
    out.info(unannounced);
    for (const [name, value] of Object.entries(buildOutputs([]).outputs)) out.output(name, name === 'status' ? 'skipped' : value);
    return out.summary(`### letmepost\n\n${mdCode(unannounced)}\n`);
  }

  // 1. Plan: which posts, which targets, which keys. Nothing is sent until all of it is valid.
  const errors: Problem[] = [...inputErrors];
  const plan: Plan = errors.length > 0 ? { mode: 'publish', targets: [], fromFiles: false, kinds: new Set() } : settings.inline ? await planInline(run, errors) : await planFiles(run, errors);
  const { targets } = plan;
  const publishing = plan.mode === 'publish' && !settings.dryRun;
  const kinds = new Set(targets.map((t) => t.publisher));
  // Missing credentials are reported together with every other problem, in one run: for
  // every publisher a post names, even when its targets did not pass preflight.
  if (publishing) errors.push(...credentialErrors(plan.kinds, settings));
  const ledger = publishing && errors.length === 0 ? createLedger(run, targets) : new Ledger(undefined, run.log);
  if (publishing && errors.length === 0 && plan.fromFiles) errors.push(...(await unsafeQueueErrors(run, targets, ledger)));
  if (errors.length > 0) {
    reportProblems(out, errors);
    await out.summary(`### letmepost: nothing was posted\n\nFix these and re-run; no post was sent:\n\n${errors.map((e) => `- ${mdCode(e instanceof PostFileError ? `${e.location}: ${e.message}` : e.message)}`).join('\n')}\n`);
    if (plan.mode === 'preview') await previewComment(run, { targets: [], problems: errors.map((e) => (e instanceof PostFileError ? `${e.location}: ${e.message}` : e.message)), warnings: [] });
    out.failed(`Nothing was posted: ${errors.length} problem${errors.length > 1 ? 's' : ''} with the ${plan.fromFiles ? 'post files or inputs' : 'inputs'} (see the annotations above).`);
    return;
  }
  for (const t of targets) run.log.info(`${t.label} → ${t.platform} via ${t.publisher}: idempotency key ${t.idempotencyKey}`);

  // 2. Preview and dry run.
  if (!publishing) return validateOnly(run, plan, kinds);

  // 3. Publish: ledger first, then the platform, concurrently with a small bound.
  const publishers = await run.createPublishers(kinds, settings, publisherEnv(run));
  const unrecorded: PlannedTarget[] = [];
  // Retract, cancel and edit live in their own chunk: most runs only publish.
  const lifecycle = targets.some(changesPost) ? await import('./lifecycle.js') : undefined;
  const deliveries = await mapBounded(targets, CONCURRENCY, async (t) => {
    const publisher = publishers.get(t.publisher)!;
    const delivery = lifecycle && changesPost(t) ? await lifecycle.retractTarget(publisher, t, ledger, run.log, settings.strictRetract) : await deliver(publisher, t, ledger, started, run.log);
    if (delivery.unrecorded) unrecorded.push(t);
    return delivery.results;
  });
  const results = deliveries.flat();

  // 4. Report.
  writeOutputs(run, results);
  await out.summary(`### letmepost\n\n${results.length ? summaryTable(results) : 'No post to publish in this run.'}\n`);
  reportResults(run, plan, results, unrecorded);
}
