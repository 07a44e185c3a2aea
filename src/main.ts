/**
 * The action as a straight line: read inputs → plan (which posts, which targets, which
 * keys) → publish → report. The only place that talks to the runner and sets failure.
 */
import { localCommitTime, payloadCommitTime } from './plan/anchor.js';
import { runContextFromEnv, type RunContext } from './context.js';
import { errorMessage, InputError, PostFileError, PublishError, SCHEDULE_REFUSED } from './errors.js';
import { GitHubRestClient } from './io/github-api.js';
import { inlineIssueToInputError, inputOfField, parseInputs, type Settings } from './inputs.js';
import { commitStatusApi, contentFingerprint, Ledger, ledgerContext } from './ledger/ledger.js';
import { planPost, type PostSource } from './plan/plan.js';
import { loadPostFiles } from './sources/files.js';
import { localGit } from './sources/select.js';
import { contentChangedWarning } from './publishers/content-change.js';
import { postSchema, type PostInput } from './model/post.js';
import { scheduleLeadProblem } from './plan/preflight.js';
import { renderPreview } from './report/preview.js';
import { createPublishers } from './publishers/registry.js';
import type { Log, PlannedTarget, Publisher, PublisherKind, TargetResult } from './publishers/types.js';
import { buildOutputs, summaryTable } from './report/outputs.js';
import { mdCode } from './report/markdown.js';
import { runner, runnerLog } from './report/runner-output.js';
import { redact, registerSecret, setSecretMasker } from './secrets.js';
import { renderTemplate, templateVariables } from './sources/templates.js';

/** Independent targets are published concurrently, but not all at once. */
const CONCURRENCY = 4;

type Problem = InputError | PostFileError;

const log: Log = runnerLog;

interface Plan {
  /** preview: pull requests — validate and render, never publish. */
  mode: 'publish' | 'preview';
  targets: PlannedTarget[];
  fromFiles: boolean;
}

/** The inline post's fields map to inputs; a problem names the input that set the field. */
function inlineSource(ctx: RunContext, targetsList: boolean): PostSource {
  return {
    label: 'inputs',
    baseDir: ctx.workspace,
    error(path, message) {
      const { input, where } = inputOfField(path, targetsList);
      return new InputError(input, `Input '${input}'${where} ${message}`);
    },
  };
}

/** Fills `{{ … }}` placeholders of the inline texts from the event; unknown ones are errors. */
function renderInlineTemplates(post: PostInput, ctx: RunContext, errors: Problem[]): PostInput {
  const vars = templateVariables(ctx);
  const render = (text: string, input: string): string => {
    const result = renderTemplate(text, vars);
    if ('errors' in result) {
      for (const e of result.errors) errors.push(new InputError(input, `Input '${input}': ${e.message}`));
      return text;
    }
    return result.text;
  };
  return {
    ...post,
    ...(post.text !== undefined ? { text: render(post.text, 'text') } : {}),
    ...(post.thread !== undefined ? { thread: post.thread.map((t) => (typeof t === 'string' ? render(t, 'thread') : t)) } : {}),
    ...(post.firstComment !== undefined ? { firstComment: render(post.firstComment, 'first-comment') } : {}),
  };
}

async function planInline(settings: Settings, inline: PostInput, ctx: RunContext, errors: Problem[]): Promise<PlannedTarget[]> {
  const before = errors.length;
  const rendered = renderInlineTemplates(inline, ctx, errors);
  if (errors.length > before) return [];
  const parsed = postSchema.safeParse(rendered);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors.push(inlineIssueToInputError(issue, rendered, settings.inlineTargetsList));
    return [];
  }
  const targets = await planPost(parsed.data, inlineSource(ctx, settings.inlineTargetsList), { ctx, idempotencyKey: settings.idempotencyKey, maxThreadPosts: settings.maxThreadPosts }, errors);
  for (const t of targets) t.ledgerCommit = ctx.sha;
  return targets;
}

/** Post files: which ones this run handles, validated at file:line, each post's targets planned. */
async function planFiles(settings: Settings, ctx: RunContext, deadline: number, errors: Problem[]): Promise<Plan> {
  const loaded = await runner.group('Post files', async () => {
    const result = await loadPostFiles({ ctx, settings, deadline });
    for (const note of result.notes) log.info(note);
    runner.info(result.files.length ? `Post files: ${result.files.join(', ')}` : 'No post files to handle in this run.');
    return result;
  });
  for (const warning of loaded.warnings) log.warning(warning);
  errors.push(...loaded.errors);
  if (loaded.mode === 'publish' && loaded.posts.length > 0) {
    const head = await localGit(ctx.workspace).run(['rev-parse', 'HEAD']);
    // Post files are published only from the commit the run is for: a workflow that checks
    // out another ref (say a fork's pull request head, under workflow_run or issue_comment)
    // must not publish files nobody with write access has merged.
    if (head.code === 0 && ctx.sha && head.stdout.trim() !== ctx.sha) {
      errors.push(
        new InputError(
          'files',
          `Input 'files': the checked-out commit ${head.stdout.trim().slice(0, 7)} is not the commit this run is for (${ctx.sha.slice(0, 7)}); post files are published only from the run's own commit, so files from another ref (such as a fork's pull request) are never posted. Check out the default ref (actions/checkout without 'ref'), or preview them on pull_request`,
        ),
      );
    }
  }
  const targets: PlannedTarget[] = [];
  for (const file of loaded.posts) {
    for (const t of await planPost(file.post, file.source, { ctx, maxThreadPosts: settings.maxThreadPosts }, errors)) {
      if (file.addedIn) {
        t.ledgerCommit = file.addedIn.sha;
        if (t.publisher === 'bluesky' && !t.scheduledAt) t.anchorTime = file.addedIn.time;
      }
      targets.push(t);
    }
  }
  return { mode: loaded.mode, targets, fromFiles: true };
}

/**
 * Bluesky record keys come from a stable time: the scheduled time, else the time of the
 * post's commit — read from the checkout, else the event payload, else the GitHub API — the
 * same on every re-run. No checkout is needed for an inline post.
 */
async function resolveAnchorTimes(targets: PlannedTarget[], settings: Settings, ctx: RunContext, deadline: number, errors: Problem[], required: boolean): Promise<void> {
  const needing = targets.filter((t) => t.publisher === 'bluesky' && t.anchorTime === undefined);
  if (needing.length === 0) return;
  let commitTime: number | undefined;
  let apiFailure: string | undefined;
  for (const t of needing) {
    if (t.scheduledAt) {
      t.anchorTime = Date.parse(t.scheduledAt);
      continue;
    }
    if (commitTime === undefined) {
      commitTime = (await localCommitTime(ctx.workspace, ctx.sha)) ?? payloadCommitTime(ctx, ctx.sha);
      if (commitTime === undefined && ctx.sha && required) {
        const client = new GitHubRestClient({ apiUrl: ctx.apiUrl, repository: ctx.repository, deadline, ...(settings.githubToken ? { token: settings.githubToken } : {}) });
        commitTime = await client.commitTime(ctx.sha).catch((error: unknown) => {
          apiFailure = errorMessage(error);
          return undefined;
        });
      }
    }
    if (commitTime === undefined) {
      // A dry run still shows everything else; its record keys are then marked provisional.
      if (!required) return;
      const why = apiFailure ? `; the GitHub API answered: ${apiFailure}` : '';
      errors.push(
        new InputError(
          'github-token',
          `Posting to Bluesky directly needs the time of the post's commit (${(t.ledgerCommit ?? ctx.sha).slice(0, 7) || 'unknown'}) to derive its record keys — that is what makes re-runs safe — and neither the checkout, the event nor the GitHub API gave it${why}. Give the job 'permissions: contents: read' and keep 'github-token' at its default, or add 'actions/checkout' before this step`,
          'Missing commit time',
        ),
      );
      return;
    }
    t.anchorTime = commitTime;
  }
}

/** Credentials each publisher needs; missing ones are input errors, found before sending. */
function credentialErrors(settings: Settings, kinds: Set<PublisherKind>): InputError[] {
  const errors: InputError[] = [];
  if (kinds.has('letmepost') && !settings.letmepost.token) {
    errors.push(new InputError('letmepost-token', "Input 'letmepost-token' is required to post through letmepost; add an API key as a repository secret and pass it: letmepost-token: ${{ secrets.LETMEPOST_TOKEN }}"));
  }
  if (kinds.has('bluesky')) {
    if (!settings.bluesky.identifier) errors.push(new InputError('bluesky-identifier', "Input 'bluesky-identifier' is required to post to Bluesky directly; set it to the account's handle (e.g. you.bsky.social), DID or email"));
    if (!settings.bluesky.appPassword) errors.push(new InputError('bluesky-app-password', "Input 'bluesky-app-password' is required to post to Bluesky directly; create an app password in Bluesky (Settings → Privacy and security → App passwords), store it as a secret and pass it: bluesky-app-password: ${{ secrets.BLUESKY_APP_PASSWORD }}"));
  }
  if (kinds.has('mastodon')) {
    if (!settings.mastodon.server) errors.push(new InputError('mastodon-server', "Input 'mastodon-server' is required to post to Mastodon; set it to your instance's URL, e.g. https://mastodon.social"));
    if (!settings.mastodon.token) errors.push(new InputError('mastodon-token', "Input 'mastodon-token' is required to post to Mastodon; create an application with the write:statuses and write:media scopes in your instance's Development settings and pass its access token as a secret"));
  }
  return errors;
}

function createLedger(settings: Settings, ctx: RunContext, deadline: number, targets: PlannedTarget[]): Ledger {
  if (settings.ledger === 'off') return new Ledger(undefined, log);
  if (!settings.githubToken) {
    if (targets.length === 0) return new Ledger(undefined, log);
    log.warning("No 'github-token': the durable ledger is off, so re-runs are protected only within each platform's idempotency window (letmepost 24 h, Mastodon ~1 h). Pass github-token: ${{ github.token }} with 'permissions: statuses: write'.");
    return new Ledger(undefined, log);
  }
  return new Ledger(commitStatusApi(new GitHubRestClient({ apiUrl: ctx.apiUrl, repository: ctx.repository, token: settings.githubToken, deadline })), log, deadline);
}

/**
 * A queue that re-reads every file (`select: all`) relies on the ledger for publishers whose
 * own guarantee ends after a while: without it, old posts would go out again.
 */
async function unsafeQueueErrors(settings: Settings, targets: PlannedTarget[], ledger: Ledger): Promise<InputError[]> {
  if (settings.select !== 'all') return [];
  const bounded = targets.filter((t) => t.publisher === 'letmepost' || t.publisher === 'mastodon');
  if (bounded.length === 0) return [];
  const commit = bounded.find((t) => t.ledgerCommit)?.ledgerCommit;
  if (commit && (await ledger.readable(commit))) return [];
  const publishers = [...new Set(bounded.map((t) => t.publisher))];
  const names = publishers.join(' and ');
  return [
    new InputError(
      'select',
      `Input 'select' is 'all', which re-reads every post file on each run; ${names} ${publishers.length > 1 ? 'remember' : 'remembers'} a post only for a while (letmepost 24 h, Mastodon ~1 h), so without the durable ledger old posts would be posted again. Enable the ledger (github-token with 'permissions: statuses: write', and ledger: commit-status), or use select: added (the default) for ${names} posts`,
    ),
  ];
}

function reportProblems(errors: Problem[]): void {
  for (const error of errors) {
    if (error instanceof PostFileError) {
      runner.error(error.message, {
        title: 'Invalid post file',
        file: error.position.file,
        ...(error.position.line !== undefined ? { startLine: error.position.line } : {}),
        ...(error.position.column !== undefined ? { startColumn: error.position.column } : {}),
      });
    } else {
      runner.error(error.message, { title: error.title });
    }
  }
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

function failure(target: PlannedTarget, status: TargetResult['status'], message: string): TargetResult[] {
  return [{ label: target.label, publisher: target.publisher, platform: target.platform, status, idempotencyKey: target.idempotencyKey, replayed: false, warnings: [], error: redact(message) }];
}

/**
 * How long each publisher's own idempotency lasts: beyond it, only the ledger knows whether a
 * key was used. Bluesky's record keys never expire.
 */
const IDEMPOTENCY_WINDOW_MS: Readonly<Record<PublisherKind, number>> = { letmepost: 24 * 3600_000, mastodon: 3600_000, bluesky: Number.POSITIVE_INFINITY };
const WINDOW_TEXT: Readonly<Record<PublisherKind, string>> = { letmepost: '24 hours', mastodon: 'about an hour', bluesky: 'ever' };

/**
 * Ledger first (the fewest requests for a re-run), then an intent record, the publisher, and
 * the ledger entry. `unrecorded` collects targets published without a ledger entry.
 */
async function publishTarget(publisher: Publisher, target: PlannedTarget, ledger: Ledger, now: number, unrecorded: PlannedTarget[]): Promise<TargetResult[]> {
  const recorded = await ledger.lookup(target);
  const sha = target.ledgerCommit?.slice(0, 7);
  if (recorded.kind === 'posted') {
    log.info(`${target.label} → ${target.platform}: already ${recorded.result.status} by an earlier run (recorded on commit ${sha}); not posting again`);
    const result = { ...recorded.result, targetKey: target.idempotencyKey };
    if (recorded.fingerprint !== undefined && recorded.fingerprint !== contentFingerprint(target)) {
      result.warnings = [...result.warnings, contentChangedWarning(result.url ?? result.uri, undefined, target.texts.join('\n'))];
      log.warning(`${target.label} → ${target.platform}: ${result.warnings[result.warnings.length - 1]}`);
    }
    return [result];
  }
  // An earlier run began to publish and never recorded the end (cancelled or killed between
  // "accepted" and "recorded"): within the platform's window its replay answers; beyond it,
  // sending again could post twice, so nothing is sent.
  const window = IDEMPOTENCY_WINDOW_MS[target.publisher];
  if (recorded.kind === 'intent' && now - recorded.since > window) {
    return failure(
      target,
      'unknown',
      `${target.label} → ${target.platform}: an earlier run began to publish this post at ${new Date(recorded.since).toISOString()} and never recorded how it ended (was the job cancelled or killed?). ${target.publisher} remembers a request for ${WINDOW_TEXT[target.publisher]} only, and that has passed, so sending it again could post it twice: it may have been published. Check the account: if the post is there, nothing is left to do; to post it on purpose, set a new 'idempotency-key'. (The intent is the commit status '${ledgerContext(target)}' on ${sha}.)`,
    );
  }
  // A schedule that is no longer ahead is an error only when nothing was sent for its key:
  // the ledger said nothing, so the platform's own replay decides (it refuses to schedule in
  // the past, so asking cannot post).
  const tooSoon = target.scheduledAtAsWritten !== undefined ? scheduleLeadProblem(target.scheduledAtAsWritten, target.publisher, now) : undefined;
  // The first intent stays: the platform's window counts from the first request.
  if (Number.isFinite(window) && recorded.kind !== 'intent') await ledger.intend(target);
  let results: TargetResult[];
  try {
    results = (await publisher.publish(target)).map((r) => ({ ...r, targetKey: target.idempotencyKey }));
  } catch (error) {
    let ended: TargetResult[];
    if (tooSoon !== undefined && error instanceof PublishError && error.code === SCHEDULE_REFUSED) {
      const message = `${tooSoon}. No earlier run sent this post: the ledger has no record of it and ${target.publisher} did not replay one`;
      const problem = target.problem?.(['scheduledAt'], message);
      ended = failure(target, 'rejected', problem instanceof PostFileError ? `${problem.location}: ${problem.message}` : (problem?.message ?? `'scheduledAt' ${message}`));
    } else {
      // Unknown: the post may exist. Failed: transient, a re-run retries. Rejected: permanent.
      const status =
        error instanceof PublishError && error.outcomeUnknown ? 'unknown' : error instanceof PublishError && (error.code === 'failed' || error.retryable) ? 'failed' : 'rejected';
      ended = failure(target, status, errorMessage(error));
    }
    // An unknown outcome keeps the intent; a failure ends it.
    if (ledger.enabled && Number.isFinite(window)) await ledger.record(target, ended[0]!);
    return ended;
  }
  for (const r of results) {
    for (const w of r.warnings) log.warning(`${r.label} → ${r.platform}: ${w}`);
    log.info(`${r.label} → ${r.platform}${r.part ? ` (${r.part})` : ''}: ${r.status}${r.replayed ? ' (replayed: already posted by an earlier run)' : ''}${r.url ? ` ${r.url}` : r.uri ? ` ${r.uri}` : ''}`);
  }
  if (results[0] && ledger.enabled && !(await ledger.record(target, results[0])) && (results[0].status === 'published' || results[0].status === 'queued')) unrecorded.push(target);
  return results;
}

/** Sets the outputs; a value a server gave in a shape no such value has is left out, with a warning. */
function writeOutputs(results: TargetResult[]): void {
  const { outputs, dropped } = buildOutputs(results);
  for (const [name, value] of Object.entries(outputs)) runner.output(name, value);
  if (dropped.length > 0) log.warning(`Left out of the outputs, since a server answered them in a shape no such value has (a hostile or broken server?): ${dropped.join(', ')}`);
}

/** Entry point: any error that escapes is reported as a failure, secrets scrubbed. */
export async function run(): Promise<void> {
  try {
    await runAction();
  } catch (error) {
    runner.failed(`letmepost-action stopped unexpectedly: ${errorMessage(error)}`);
  }
}

async function runAction(): Promise<void> {
  setSecretMasker(runner.mask);
  const { settings, errors } = parseInputs(runner.input);
  for (const secret of [settings.letmepost.token, settings.bluesky.appPassword, settings.mastodon.token, settings.githubToken]) registerSecret(secret);

  const ctx = runContextFromEnv(process.env);
  const started = Date.now();
  const deadline = started + settings.timeoutSeconds * 1000;
  runner.debug(`Context: repository=${ctx.repository} sha=${ctx.sha} workflow=${ctx.workflow} job=${ctx.job} step=${ctx.step} event=${ctx.eventName} run=${ctx.runId}#${ctx.runAttempt}`);

  // 1. Plan: which posts, which targets, which keys. Nothing is sent until all of it is valid.
  const plan: Plan =
    errors.length > 0
      ? { mode: 'publish', targets: [], fromFiles: false }
      : settings.inline
        ? { mode: 'publish', targets: await planInline(settings, settings.inline, ctx, errors), fromFiles: false }
        : await planFiles(settings, ctx, deadline, errors);
  const { targets } = plan;
  const publishing = plan.mode === 'publish' && !settings.dryRun;
  await resolveAnchorTimes(targets, settings, ctx, deadline, errors, publishing);
  const kinds = new Set(targets.map((t) => t.publisher));
  // Missing credentials are reported together with every other problem, in one run.
  if (publishing) errors.push(...credentialErrors(settings, kinds));
  const ledger = publishing && errors.length === 0 ? createLedger(settings, ctx, deadline, targets) : new Ledger(undefined, log);
  if (publishing && errors.length === 0 && plan.fromFiles) errors.push(...(await unsafeQueueErrors(settings, targets, ledger)));
  if (errors.length > 0) {
    reportProblems(errors);
    await runner.summary(`### letmepost: nothing was posted\n\nFix these and re-run; no post was sent:\n\n${errors.map((e) => `- ${mdCode(e instanceof PostFileError ? `${e.location}: ${e.message}` : e.message)}`).join('\n')}\n`);
    runner.failed(`Nothing was posted: ${errors.length} problem${errors.length > 1 ? 's' : ''} with the ${plan.fromFiles ? 'post files or inputs' : 'inputs'} (see the annotations above).`);
    return;
  }
  for (const t of targets) log.info(`${t.label} → ${t.platform} via ${t.publisher}: idempotency key ${t.idempotencyKey}`);

  // 2. Preview (pull requests) and dry runs: render everything, send nothing.
  if (!publishing) {
    for (const t of targets) {
      const tooSoon = t.scheduledAtAsWritten !== undefined ? scheduleLeadProblem(t.scheduledAtAsWritten, t.publisher, started) : undefined;
      if (tooSoon !== undefined) log.warning(`${t.label} → ${t.platform}: 'scheduledAt' ${tooSoon}. It is refused when published, unless an earlier run already queued it`);
    }
    // Only a dry run shows requests; a preview needs no publisher (nor Bluesky's SDK).
    const publishers = settings.dryRun ? await createPublishers(kinds, settings, { deadline, log }) : new Map<PublisherKind, Publisher>();
    const results: TargetResult[] = [];
    const requests = new Map<PlannedTarget, unknown>();
    for (const t of targets) {
      if (settings.dryRun) {
        const request = await publishers.get(t.publisher)!.describe(t);
        requests.set(t, request);
        runner.info(`${t.label} → ${t.platform}: the request that would be sent (nothing is sent):\n${JSON.stringify(request, null, 2)}`);
      }
      results.push({ label: t.label, publisher: t.publisher, platform: t.platform, status: 'validated', idempotencyKey: t.idempotencyKey, replayed: false, warnings: [], ...(t.scheduledAt ? { scheduledAt: t.scheduledAt } : {}) });
    }
    writeOutputs(results);
    const heading = plan.mode === 'preview' ? 'letmepost: preview (posts are published when merged)' : 'letmepost: dry run (nothing was sent)';
    await runner.summary(`### ${heading}\n\n${renderPreview(targets, requests)}\n`);
    runner.info(targets.length ? `${targets.length} post target${targets.length > 1 ? 's' : ''} validated; nothing was sent.` : 'Nothing to validate.');
    return;
  }

  // 3. Publish: ledger first, then the platform, concurrently with a small bound.
  const publishers = await createPublishers(kinds, settings, { deadline, log });
  const unrecorded: PlannedTarget[] = [];
  const results = (await mapBounded(targets, CONCURRENCY, (t) => publishTarget(publishers.get(t.publisher)!, t, ledger, started, unrecorded))).flat();

  // 4. Report.
  writeOutputs(results);
  await runner.summary(`### letmepost\n\n${results.length ? summaryTable(results) : 'No post to publish in this run.'}\n`);
  // A queue (`select: all`) re-reads every file on each run: for letmepost and Mastodon only
  // the ledger keeps an old post from going out again, so an unrecorded one turns the job red.
  const unsafe = plan.fromFiles && settings.select === 'all' ? unrecorded.filter((t) => t.publisher !== 'bluesky') : [];
  if (unsafe.length > 0) {
    runner.failed(
      `Published, but not recorded in the ledger: ${unsafe.map((t) => `${t.label} → ${t.platform}`).join(', ')}. With select: all, a run after the platform's idempotency window would post ${unsafe.length > 1 ? 'them' : 'it'} again; give the job 'permissions: statuses: write' and re-run it (the re-run records ${unsafe.length > 1 ? 'them' : 'it'} without posting again).`,
    );
  }
  const failed = results.filter((r) => r.status === 'failed' || r.status === 'rejected' || r.status === 'unknown');
  if (failed.length > 0) {
    for (const r of failed) {
      const where = `${r.label} → ${r.platform}`;
      const message = r.error?.startsWith(where) ? r.error : `${where}: ${r.error ?? r.status}`;
      const title = r.status === 'unknown' ? `${r.platform}: may have been posted` : r.status === 'failed' ? `${r.platform}: not posted (transient; re-run to retry)` : `Not posted to ${r.platform}`;
      runner.error(message, { title });
    }
    const done = results.length - failed.length;
    runner.failed(`${failed.length} of ${results.length} post target${results.length > 1 ? 's' : ''} failed${done ? ` (${done} succeeded)` : ''}; see the errors above.`);
  }
}
