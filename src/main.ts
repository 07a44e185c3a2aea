/**
 * The action as a straight line: read inputs → plan (which posts, which targets, which
 * keys) → publish → report. The only place that talks to the runner and sets failure.
 */
import * as core from '@actions/core';
import { localCommitTime, payloadCommitTime } from './commit-time.js';
import { runContextFromEnv, type RunContext } from './context.js';
import { errorMessage, InputError, PostFileError, PublishError } from './errors.js';
import { inlineIssueToInputError, parseInputs, POST_FIELD_INPUTS, type Settings } from './inputs.js';
import { planPost, type PostSource } from './plan.js';
import { postSchema } from './post-schema.js';
import { createPublishers } from './publishers/index.js';
import type { Log, PlannedTarget, Publisher, PublisherKind, TargetResult } from './publishers/types.js';
import { buildOutputs, summaryTable } from './report.js';
import { redact, registerSecret, setSecretMasker } from './secrets.js';

/** Independent targets are published concurrently, but not all at once. */
const CONCURRENCY = 4;

const log: Log = {
  info: (m) => core.info(redact(m)),
  warning: (m) => core.warning(redact(m)),
  debug: (m) => core.debug(redact(m)),
};

/** The inline post's fields map to inputs; a target problem points at whichever input set it. */
function inlineSource(ctx: RunContext, usedTargetsInput: boolean): PostSource {
  return {
    label: 'inputs',
    baseDir: ctx.workspace,
    error(path, message) {
      const field = path.map(String);
      let input = POST_FIELD_INPUTS[field.slice(0, 2).join('.')] ?? POST_FIELD_INPUTS[field[0] ?? ''] ?? String(field[0]);
      if (field[0] === 'targets' && !usedTargetsInput) input = 'account-id';
      const item = (input === 'media' || input === 'thread' || (input === 'targets' && usedTargetsInput)) && field[1] !== undefined ? ` (item ${Number(field[1]) + 1})` : '';
      return new InputError(input, `Input '${input}'${item} ${message}`);
    },
  };
}

/** Builds the planned targets from the inputs, collecting every problem. */
async function plan(settings: Settings, ctx: RunContext, now: number, errors: Array<InputError | PostFileError>): Promise<PlannedTarget[]> {
  if (!settings.inline) {
    errors.push(new InputError('text', "Input 'text' is required: give the text to post (and 'platform' with 'account-id', or 'targets')"));
    return [];
  }
  const parsed = postSchema.safeParse(settings.inline);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors.push(inlineIssueToInputError(issue, settings.inline));
    return [];
  }
  return planPost(parsed.data, inlineSource(ctx, core.getInput('targets').trim() !== ''), { ctx, idempotencyKey: settings.idempotencyKey, now }, errors);
}

/**
 * Bluesky record keys and createdAt come from a stable time: the scheduled time, else the
 * time of the post's commit, the same on every re-run.
 */
async function resolveAnchorTimes(targets: PlannedTarget[], ctx: RunContext, errors: Array<InputError | PostFileError>, required: boolean): Promise<void> {
  const needing = targets.filter((t) => t.publisher === 'bluesky' && t.anchorTime === undefined);
  if (needing.length === 0) return;
  let commitTime: number | undefined;
  for (const t of needing) {
    if (t.scheduledAt) {
      t.anchorTime = Date.parse(t.scheduledAt);
      continue;
    }
    commitTime ??= (await localCommitTime(ctx.workspace, ctx.sha)) ?? payloadCommitTime(ctx, ctx.sha);
    if (commitTime === undefined) {
      // A dry run still shows everything else; its record keys are then marked provisional.
      if (!required) return;
      errors.push(
        new InputError(
          'bluesky-identifier',
          `Posting to Bluesky directly needs the time of commit ${ctx.sha.slice(0, 7) || '(unknown)'} to derive its record keys (that is what makes re-runs safe), and it could not be read: add 'actions/checkout' before this step`,
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
    if (!settings.mastodon.token) errors.push(new InputError('mastodon-token', "Input 'mastodon-token' is required to post to Mastodon; create an application with the write:statuses scope in your instance's Development settings and pass its access token as a secret"));
  }
  return errors;
}

function reportProblems(errors: Array<InputError | PostFileError>): void {
  for (const error of errors) {
    if (error instanceof PostFileError) {
      core.error(redact(error.message), {
        title: 'Invalid post file',
        file: error.position.file,
        ...(error.position.line !== undefined ? { startLine: error.position.line } : {}),
        ...(error.position.column !== undefined ? { startColumn: error.position.column } : {}),
      });
    } else {
      core.error(redact(error.message), { title: `Invalid input '${error.input}'` });
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

async function publishTarget(publisher: Publisher, target: PlannedTarget): Promise<TargetResult[]> {
  try {
    const results = await publisher.publish(target);
    for (const r of results) {
      for (const w of r.warnings) log.warning(`${r.label} → ${r.platform}: ${w}`);
      log.info(`${r.label} → ${r.platform}${r.part ? ` (${r.part})` : ''}: ${r.status}${r.replayed ? ' (replayed: already posted by an earlier run)' : ''}${r.url ? ` ${r.url}` : r.uri ? ` ${r.uri}` : ''}`);
    }
    return results;
  } catch (error) {
    const message = redact(errorMessage(error));
    // Unknown: the post may exist. Failed: transient, a re-run retries. Rejected: permanent.
    const status =
      error instanceof PublishError && error.outcomeUnknown ? 'unknown' : error instanceof PublishError && (error.code === 'failed' || error.retryable) ? 'failed' : 'rejected';
    return [{ label: target.label, publisher: target.publisher, platform: target.platform, status, idempotencyKey: target.idempotencyKey, replayed: false, warnings: [], error: message }];
  }
}

/** Entry point: any error that escapes is reported as a failure, secrets scrubbed. */
export async function run(): Promise<void> {
  try {
    await runAction();
  } catch (error) {
    core.setFailed(`letmepost-action stopped unexpectedly: ${redact(errorMessage(error))}`);
  }
}

async function runAction(): Promise<void> {
  setSecretMasker((value) => core.setSecret(value));
  const { settings, errors } = parseInputs((name) => core.getInput(name));
  for (const secret of [settings.letmepost.token, settings.bluesky.appPassword, settings.mastodon.token, settings.githubToken]) registerSecret(secret);

  const ctx = runContextFromEnv(process.env);
  const started = Date.now();
  const deadline = started + settings.timeoutSeconds * 1000;
  core.debug(`Context: repository=${ctx.repository} sha=${ctx.sha} workflow=${ctx.workflow} job=${ctx.job} step=${ctx.step} event=${ctx.eventName} run=${ctx.runId}#${ctx.runAttempt}`);

  const targets = errors.length === 0 ? await plan(settings, ctx, started, errors) : [];
  await resolveAnchorTimes(targets, ctx, errors, !settings.dryRun);
  const kinds = new Set(targets.map((t) => t.publisher));
  if (!settings.dryRun) errors.push(...credentialErrors(settings, kinds));
  if (errors.length > 0) {
    reportProblems(errors);
    await core.summary
      .addHeading('letmepost: nothing was posted', 3)
      .addRaw(`Fix these and re-run; no request was sent:\n\n${errors.map((e) => `- ${redact(e instanceof PostFileError ? `${e.location}: ${e.message}` : e.message)}`).join('\n')}\n`)
      .write();
    core.setFailed(`Nothing was posted: ${errors.length} problem${errors.length > 1 ? 's' : ''} with the inputs (see the annotations above).`);
    return;
  }

  for (const t of targets) log.info(`${t.label} → ${t.platform} via ${t.publisher}: idempotency key ${t.idempotencyKey}`);
  const publishers = await createPublishers(kinds, settings, { deadline, log });

  let results: TargetResult[];
  if (settings.dryRun) {
    results = [];
    await core.group('Dry run: the requests that would be sent (nothing is sent)', async () => {
      for (const t of targets) {
        const request = await publishers.get(t.publisher)!.describe(t);
        core.info(redact(`${t.label} → ${t.platform}:\n${JSON.stringify(request, null, 2)}`));
        core.summary.addDetails(`${t.label} → ${t.platform}: request`, `\n\n\`\`\`json\n${redact(JSON.stringify(request, null, 2))}\n\`\`\`\n\n`);
        results.push({ label: t.label, publisher: t.publisher, platform: t.platform, status: 'validated', idempotencyKey: t.idempotencyKey, replayed: false, warnings: [], ...(t.scheduledAt ? { scheduledAt: t.scheduledAt } : {}) });
      }
    });
  } else {
    results = (await mapBounded(targets, CONCURRENCY, (t) => publishTarget(publishers.get(t.publisher)!, t))).flat();
  }

  const outputs = buildOutputs(results);
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
  await core.summary.addHeading(settings.dryRun ? 'letmepost: dry run (nothing was sent)' : 'letmepost', 3).addRaw(`${summaryTable(results)}\n`).write();

  const failed = results.filter((r) => r.status === 'failed' || r.status === 'rejected' || r.status === 'unknown');
  if (failed.length > 0) {
    for (const r of failed) core.error(redact(`${r.label} → ${r.platform}: ${r.error ?? r.status}`), { title: `Not posted to ${r.platform}` });
    const done = results.length - failed.length;
    core.setFailed(`${failed.length} of ${results.length} post target${results.length > 1 ? 's' : ''} failed${done ? ` (${done} succeeded)` : ''}; see the errors above.`);
  }
}
