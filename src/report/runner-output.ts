/**
 * Everything the action tells the runner goes through here, and only here: log lines,
 * annotations, outputs, the job summary, secret masks, failure. Every text is scrubbed of
 * secrets first, then made inert (neutralize.ts): a file name, a PR title or a server's
 * answer inside a message can never be read by the runner as a workflow command. Markdown
 * for the summary is made safe where it is built (markdown.ts); here it is only scrubbed.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { EOL } from 'node:os';
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

// ── The runner's protocol, written here rather than loaded from @actions/core: its entry
// module also loads an OIDC HTTP client (undici, tls, http2, zlib) this action never uses,
// a fifth of the bundle and ~110 ms of every start. What follows prints byte for byte what
// @actions/core 3 prints; test/choke-point.test.ts compares the two.

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::name key=value,…::message`, as the runner reads a workflow command. */
function command(name: string, properties: Record<string, string | number | undefined>, message: string): void {
  const props = Object.entries(properties)
    .filter(([, value]) => value !== undefined && value !== '' && value !== 0)
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(',');
  process.stdout.write(`::${name}${props ? ` ${props}` : ''}::${escapeData(message)}${EOL}`);
}

function annotationProperties(p: AnnotationProps | undefined): Record<string, string | number | undefined> {
  if (p === undefined) return {};
  return {
    title: p.title === undefined ? undefined : neutralize(redact(p.title)),
    file: p.file === undefined ? undefined : neutralize(p.file),
    line: p.startLine,
    col: p.startColumn,
  };
}

/**
 * A delimiter in the shape @actions/core gives it (`ghadelimiter_<uuid>`). Not from
 * node:crypto, whose loading alone costs a run ~10 ms: what keeps a value from ending the
 * block early is the check below that neither name nor value contains the delimiter, not its
 * unpredictability.
 */
function delimiterId(): string {
  // A version-4 UUID's layout: 'v' is its variant digit (8 to b), '#' any hex digit.
  return '########-####-4###-v###-############'.replace(/[#v]/g, (c) => ((c === 'v' ? 8 + Math.random() * 4 : Math.random() * 16) | 0).toString(16));
}

/** A file command (GITHUB_OUTPUT): `name<<delimiter`, the value, the delimiter. */
function fileCommand(variable: string, name: string, value: string): void {
  const path = process.env[variable];
  if (!path) throw new Error(`Unable to find environment variable for file command ${variable.replace(/^GITHUB_/, '')}`);
  if (!existsSync(path)) throw new Error(`Missing file at path: ${path}`);
  const delimiter = `ghadelimiter_${delimiterId()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) throw new Error(`Unexpected input: a name or value contains the delimiter "${delimiter}"`);
  appendFileSync(path, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, { encoding: 'utf8' });
}

export const runner = {
  /** An input as the runner passes it (`INPUT_<NAME>`), trimmed. */
  input: (name: string): string => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim(),
  mask: (secret: string): void => command('add-mask', {}, secret),
  info: (message: string): void => void process.stdout.write(`${logText(message)}${EOL}`),
  debug: (message: string): void => command('debug', {}, logText(message)),
  notice: (message: string): void => command('notice', {}, logText(message)),
  warning: (message: string, p?: AnnotationProps): void => command('warning', annotationProperties(p), logText(message)),
  error: (message: string, p?: AnnotationProps): void => command('error', annotationProperties(p), logText(message)),
  failed: (message: string): void => {
    process.exitCode = 1;
    command('error', {}, logText(message));
  },
  /** Outputs go to the runner's output file, never through the log; secrets scrubbed. */
  output: (name: string, value: string): void => fileCommand('GITHUB_OUTPUT', name, redact(value)),
  group: async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    command('group', {}, neutralize(name));
    try {
      return await fn();
    } finally {
      command('endgroup', {}, '');
    }
  },
  /** Appends Markdown built with markdown.ts to the job summary. */
  summary: async (markdown: string): Promise<void> => {
    const path = process.env.GITHUB_STEP_SUMMARY;
    if (!path) throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.');
    appendFileSync(path, redact(markdown), { encoding: 'utf8' });
  },
};

/** The log the publishers and the planning steps write to. */
export const runnerLog: Log = { info: runner.info, warning: (m) => runner.warning(m), debug: runner.debug };
