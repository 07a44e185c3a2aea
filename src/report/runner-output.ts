/**
 * Everything the action tells the runner goes through here, and only here: log lines,
 * annotations, outputs, the job summary, secret masks, failure. Every text is scrubbed of
 * secrets first, then made inert (neutralize.ts): a file name, a PR title or a server's
 * answer inside a message can never be read by the runner as a workflow command. Markdown
 * for the summary is made safe where it is built (markdown.ts); here it is only scrubbed.
 */
import * as core from '@actions/core';
import { neutralize, neutralizeLines } from './neutralize.js';
import type { Log } from '../publishers/types.js';
import { redact } from '../secrets.js';

/** Where an annotation points: a post file and line, and a title. */
export interface AnnotationProps {
  title?: string;
  file?: string;
  startLine?: number;
  startColumn?: number;
}

/** The text of a log line or annotation: secrets scrubbed, every line inert. */
export function logText(message: string): string {
  return neutralizeLines(redact(message));
}

function props(p: AnnotationProps | undefined): core.AnnotationProperties | undefined {
  if (p === undefined) return undefined;
  const out: core.AnnotationProperties = {};
  if (p.title !== undefined) out.title = neutralize(redact(p.title));
  if (p.file !== undefined) out.file = neutralize(p.file);
  if (p.startLine !== undefined) out.startLine = p.startLine;
  if (p.startColumn !== undefined) out.startColumn = p.startColumn;
  return out;
}

export const runner = {
  input: (name: string): string => core.getInput(name),
  mask: (secret: string): void => core.setSecret(secret),
  info: (message: string): void => core.info(logText(message)),
  debug: (message: string): void => core.debug(logText(message)),
  notice: (message: string): void => core.notice(logText(message)),
  warning: (message: string, p?: AnnotationProps): void => core.warning(logText(message), props(p)),
  error: (message: string, p?: AnnotationProps): void => core.error(logText(message), props(p)),
  failed: (message: string): void => core.setFailed(logText(message)),
  /** Outputs go to the runner's output file, never through the log; secrets scrubbed. */
  output: (name: string, value: string): void => core.setOutput(name, redact(value)),
  group: <T>(name: string, fn: () => Promise<T>): Promise<T> => core.group(neutralize(name), fn),
  /** Appends Markdown built with markdown.ts to the job summary. */
  summary: async (markdown: string): Promise<void> => {
    await core.summary.addRaw(redact(markdown)).write();
  },
};

/** The log the publishers and the planning steps write to. */
export const runnerLog: Log = { info: runner.info, warning: (m) => runner.warning(m), debug: runner.debug };
