/**
 * Log oracle: a model of how the GitHub Actions runner (actions/runner, C#) turns a step's output
 * into workflow commands and into the log a user sees. Tests use it to prove that untrusted text the
 * action logs (file names, PR titles, server answers, page titles) can never act as a command.
 *
 * Read from actions/runner at 258d6c857db3 (v2.336.0, 2026-08); .NET 8; ICU as on Linux runners.
 *
 * 1. Lines. Handlers/NodeScriptActionHandler.cs wires StepHost.OutputDataReceived AND
 *    ErrorDataReceived to two OutputManager instances sharing one ActionCommandManager: stdout and
 *    stderr are both parsed for commands, each split on its own, with one command state.
 *    Runner.Sdk/ProcessInvoker.cs StartReadStream calls StreamReader.ReadLine(): a line ends at "\n",
 *    at a lone "\r", or at "\r\n" (one break, also across buffer reads). U+0085, U+2028, U+2029 and
 *    U+000C do not end a line. Unterminated trailing text is a last line; a final terminator adds no
 *    empty line; empty lines in between are kept. System.Diagnostics.Process opens the pipe with
 *    detectEncodingFromByteOrderMarks: true, so one U+FEFF at the very start of the stream is dropped.
 *
 * 2. Order per line. Handlers/OutputManager.cs OnDataReceived: if the line contains "##[" or "::"
 *    (string.IndexOf(string): culture-sensitive, see 5) it goes to ActionCommandManager.TryProcessCommand;
 *    if that returns false the line is plain output. Plain output containing "##[start-action" or
 *    "##[end-action" is rewritten to "##[\start-action" / "##[\end-action" (ordinal Contains).
 *    Runner.Worker/ActionCommandManager.cs TryProcessCommand: first ActionCommand.TryParseV2, and only
 *    if that fails ActionCommand.TryParse (legacy). So "::warning::x ##[set-output name=a]b" is a
 *    warning and nothing else, but a line whose "::" form fails (unknown name, no second "::") is
 *    searched for "##[" anywhere.
 *
 * 3. Runner.Common/ActionCommand.cs TryParseV2 ("::name k=v,k=v::data"): message.TrimStart() (every
 *    char.IsWhiteSpace char: \t-\r, space, U+0085, U+00A0, U+1680, U+2000-200A, U+2028/9, U+202F,
 *    U+205F, U+3000; NOT U+200B or U+FEFF), then StartsWith("::"), then IndexOf("::", 2) is the
 *    separator (so later "::" are data); cmdInfo is split at the first ' ' into name and properties.
 *    The name must be registered (HashSet, OrdinalIgnoreCase: "::WARNING::" works, but U+0131 and
 *    U+017F do not fold to I and S: dotnet/runtime pal_casing.c). Properties:
 *    Trim(), Split(',', RemoveEmptyEntries), each Split('=', 2, RemoveEmptyEntries), pairs of length 2
 *    only ("k=" is dropped, "k==v" gives "v"); Properties is an OrdinalIgnoreCase dictionary. Data and
 *    values are unescaped by sequential ordinal Replace: data %0D %0A %25; property %0D %0A %3A %2C %25.
 *    TryParse ("##[name k=v;k=v]data"): IndexOf("##[") anywhere in the line, the first one only (if its
 *    name is not registered, a later "##[" on the line is not tried); IndexOf(']') from there;
 *    properties Split(';', RemoveEmptyEntries) without Trim; data and values unescape %3B %0D %0A %5D %25.
 *
 * 4. TryProcessCommand. "notice" (ordinal ==) is dropped (plain output) when the server variable
 *    DistributedTask.EnhancedAnnotations is off (github.com has it on). While stopped, only a command
 *    whose name equals the stop token (OrdinalIgnoreCase, v2 "::tok::" or legacy "##[tok]") does
 *    anything: it is echoed, the token is unregistered, processing resumes. Every other command line,
 *    add-mask included, returns false and is shown verbatim: a secret "masked" while stopped shows in
 *    clear later. "::stop-commands::tok": ValidateStopToken throws (uncaught: the step errors) if the
 *    token is empty, "pause-logging" or a registered command name, unless ACTIONS_ALLOW_UNSECURE_
 *    STOPCOMMAND_TOKENS is true; otherwise the token is registered as a command, masked if longer than
 *    6 chars (AddValue happens before the line is echoed, so the stop line shows "::stop-commands::***").
 *    Otherwise the extension runs; the raw line is echoed first when echo is on (EchoOnActionCommand,
 *    initially ACTIONS_STEP_DEBUG) unless the extension has OmitEcho (add-mask, debug, warning, error,
 *    notice). An exception from an extension logs "##[error]Unable to process command '<line or name>'
 *    successfully." and "##[error]<message>" and fails the step (CommandResult = Failed).
 *    Registered (Runner.Common/ExtensionManager.cs): set-env, set-output, save-state, add-path,
 *    add-mask, add-matcher, remove-matcher, warning, error, notice, debug, group, endgroup, echo,
 *    stop-commands (internal-set-repo-path only for runner plugins).
 *    - set-output / save-state: deprecated, NOT disabled: they still set the output / state; a
 *      deprecation warning only if DistributedTask.DeprecateStepOutputCommands is on. A missing name throws.
 *    - set-env / add-path: throw "The `set-env` command is disabled..." unless ACTIONS_ALLOW_UNSECURE_
 *      COMMANDS is "true" (process env or the step's env context): an injected set-env fails the step.
 *      set-env NODE_OPTIONS is always refused with an error annotation.
 *    - add-mask: blank data warns; else masks the value and each trimmed line of it (split on \r \n).
 *    - echo: data must be on/off (Trim, case-insensitive) or it throws.
 *    - warning/error/notice: ExecutionContext.AddIssue masks the message (only the message: title,
 *      file and the other properties go into issue.Data unmasked), truncates it to 4096 chars,
 *      records at most 10 per type per step, and logs "##[warning]"+message (not if empty).
 *    - group/endgroup: log "##[group]"+data / "##[endgroup]". debug: "##[debug]"+line, step debug only.
 *
 * 5. Culture. ActionCommand uses string.StartsWith(string) and string.IndexOf(string[, int]), which
 *    are CurrentCulture comparisons; on .NET 5+ that is ICU (the runner requires libicu; see
 *    installdependencies.sh). dotnet/runtime CompareInfo.Icu.cs answers printable ASCII ordinally but
 *    calls ICU usearch (pal_collation.c GlobalizationNative_IndexOf, with a grapheme-cluster break
 *    iterator) whenever a control or non-ASCII char is next to a candidate, and StartsWith goes
 *    through SimpleAffix. Consequences:
 *    completely ignorable chars (U+0000-0008, U+200B-200F, U+00AD, U+FEFF, variation selectors, ...)
 *    are skipped inside and before a match; a match cannot start inside a grapheme cluster (a Prepend
 *    char like U+0600 before ':' hides it) nor end before a non-ignorable Extend/SpacingMark (U+0301,
 *    U+0903, U+1F3FB after "::" hides the separator; "::"+U+0301 is not StartsWith("::")). Hence, under
 *    ICU, core.warning(text starting with U+0301) prints "::warning::\u0301..." whose v2 parse fails
 *    (no separator), and the legacy parse then runs on the whole line: a "##[set-output name=a]b"
 *    inside that text fires. The other way round is harmless: when ICU finds "::" or "##[" across
 *    ignorable chars, the runner still reads the name at the fixed offset 2 or prefixIndex + 3, which
 *    then starts with ':', '#', '[' or the ignorable char, never a command name.
 *    `matching: 'icu'` (default) models this with Node's own ICU (Intl.Collator for ignorability,
 *    Intl.Segmenter for clusters); it agreed with ICU 72 usearch driven like .NET on 30,000 random
 *    strings. `matching: 'ordinal'` is the textbook reading. unexpectedCommands uses both.
 *
 * 6. Masking. Runner.Worker/ExecutionContext.cs Write() masks every line it logs with
 *    HostContext.SecretMasker (Sdk/DTLogging/Logging/SecretMasker.cs: ordinal search for each value,
 *    overlaps merged, replaced by "***"). Commands are parsed from the raw line, before any masking;
 *    a value registered by add-mask is masked in everything written after it (later lines, later
 *    annotations), never retroactively. The runner also masks encoded forms (base64, JSON, URI, XML
 *    escapes: Logging/ValueEncoders.cs); this model masks only the value and its lines, so it can
 *    only under-mask (a test asserting "never in clear" stays on the safe side).
 *
 * @actions/core (3.0.1): core.info(m) writes m + os.EOL with no escaping at all; warning/error/notice/
 * debug write "::name k=v::" + escapeData(m) (escapes only % \r \n), properties via escapeProperty
 * (% \r \n : ,). Neither touches "::" inside data, "##[", or combining marks.
 *
 * API: parseRunnerLog(stream, options) runs one stream through the runner's loop and returns the
 * lines, the commands acted on (and those suspended by stop-commands), masks, the visible (masked)
 * log, annotations, outputs/state/env/paths and whether the step fails. parseCommandLine(line) is
 * one line on its own; splitRunnerLines, cultureSearch and isIcuIgnorable expose the pieces.
 * unexpectedCommands(output, allowed) is the safety check (both readings, stdout and stderr);
 * maskedLog(stream) is what the log viewer shows.
 *
 * Not modelled: problem matchers (add-matcher reads a file; matched lines become annotations), the
 * masker's encoded variants (see 6), the interleaving of stdout and stderr (the caller picks one
 * stream, or unexpectedCommands checks each), and messages that only step debug shows in full.
 * The ICU rules use the ICU inside Node (a slightly newer version than a runner's libicu).
 */

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export type Matching = 'icu' | 'ordinal';
export type CommandForm = 'v2' | 'legacy';

export interface RunnerOptions {
  /** How "::" / "##[" are searched: ICU as on Linux runners (default) or the ordinal reading. */
  matching?: Matching;
  /** Server variable DistributedTask.EnhancedAnnotations (on at github.com): off drops `notice`. */
  enhancedAnnotations?: boolean;
  /** ACTIONS_STEP_DEBUG: echo starts on and ##[debug] lines are shown. */
  stepDebug?: boolean;
  /** ACTIONS_ALLOW_UNSECURE_COMMANDS=true: set-env and add-path work. */
  allowUnsecureCommands?: boolean;
  /** ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS=true: any stop token is accepted. */
  allowUnsecureStopCommandTokens?: boolean;
  /** Server variable DistributedTask.DeprecateStepOutputCommands: set-output/save-state also warn. */
  deprecateStepOutputCommands?: boolean;
}

/** What ActionCommand.TryParseV2 / TryParse return for one line. */
export interface ParsedCommand {
  form: CommandForm;
  /** As written; the runner matches names case-insensitively. */
  name: string;
  /** Unescaped values; keys as first written (the runner's dictionary is case-insensitive). */
  props: Record<string, string>;
  /** Unescaped data. */
  message: string;
}

export interface RunnerCommand extends ParsedCommand {
  /** 1-based line number in the stream as the runner split it. */
  line: number;
  raw: string;
  /**
   * ran: the extension did its work; failed: it threw (step fails) or a stop token was refused;
   * stop / resume: stop-commands and its token; suspended: parsed while stopped, so ignored.
   */
  outcome: 'ran' | 'failed' | 'stop' | 'resume' | 'suspended';
  error?: string;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  props: Record<string, string>;
  line: number;
  /** False past the 10th of a level in one step: logged, but not an annotation. */
  recorded: boolean;
}

export interface RunnerLog {
  /** The stream split as the runner's StreamReader.ReadLine splits it. */
  lines: string[];
  /** Commands the runner acted on (including failed ones and the stop/resume pair), in order. */
  commands: RunnerCommand[];
  /** Command lines ignored because commands were stopped. */
  suspended: RunnerCommand[];
  /** Values the masker would hide, in registration order. */
  masks: string[];
  /** The log as shown, one entry per written log line, already masked. */
  visibleLines: string[];
  annotations: Annotation[];
  outputs: Record<string, string>;
  state: Record<string, string>;
  env: Record<string, string>;
  paths: string[];
  /** A command made the step fail (disabled command, bad echo value, missing name, bad stop token). */
  stepFailed: boolean;
  /** An invalid stop token threw out of the output loop: lines after `abortedAtLine` were never read. */
  abortedAtLine?: number;
}

// ---------------------------------------------------------------------------------------------
// Line splitting (StreamReader.ReadLine)
// ---------------------------------------------------------------------------------------------

/** Splits one output stream into the lines the runner reads. */
export function splitRunnerLines(stream: string): string[] {
  const text = stream.startsWith('\uFEFF') ? stream.slice(1) : stream;
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x0a && c !== 0x0d) continue;
    lines.push(text.slice(start, i));
    if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
    start = i + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// .NET string helpers
// ---------------------------------------------------------------------------------------------

const DOTNET_WHITESPACE = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/;

export function isDotnetWhiteSpace(ch: string): boolean {
  return ch.length === 1 && DOTNET_WHITESPACE.test(ch);
}

/** string.TrimStart() / Trim() with no arguments: char.IsWhiteSpace. */
export function dotnetTrimStart(s: string): string {
  let i = 0;
  while (i < s.length && isDotnetWhiteSpace(s[i]!)) i++;
  return s.slice(i);
}

function dotnetTrim(s: string): string {
  let end = s.length;
  while (end > 0 && isDotnetWhiteSpace(s[end - 1]!)) end--;
  return dotnetTrimStart(s.slice(0, end));
}

/** string.Split(char, count, StringSplitOptions.RemoveEmptyEntries) as .NET Core implements it. */
function dotnetSplitRemoveEmpty(s: string, sep: string, count = Number.MAX_SAFE_INTEGER): string[] {
  const seps: number[] = [];
  for (let i = s.indexOf(sep); i >= 0; i = s.indexOf(sep, i + 1)) seps.push(i);
  const out: string[] = [];
  let curr = 0;
  for (let i = 0; i < seps.length; i++) {
    const entry = s.slice(curr, seps[i]);
    if (entry !== '') out.push(entry);
    curr = seps[i]! + 1;
    if (out.length === count - 1) {
      // The rest is the last entry; empty pieces before it are skipped first.
      while (++i < seps.length) {
        if (s.slice(curr, seps[i]) !== '') break;
        curr = seps[i]! + 1;
      }
      break;
    }
  }
  const last = s.slice(curr);
  if (last !== '') out.push(last);
  return out;
}

function replaceSequence(s: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  let out = s;
  for (const [escaped, token] of pairs) out = out.replaceAll(escaped, token);
  return out;
}

const UNESCAPE_DATA = [['%0D', '\r'], ['%0A', '\n'], ['%25', '%']] as const;
const UNESCAPE_PROPERTY = [['%0D', '\r'], ['%0A', '\n'], ['%3A', ':'], ['%2C', ','], ['%25', '%']] as const;
const UNESCAPE_LEGACY = [['%3B', ';'], ['%0D', '\r'], ['%0A', '\n'], ['%5D', ']'], ['%25', '%']] as const;

// ---------------------------------------------------------------------------------------------
// Culture-sensitive search (ICU) vs ordinal
// ---------------------------------------------------------------------------------------------

export interface Search {
  indexOf(s: string, pattern: string, from?: number): number;
  startsWith(s: string, pattern: string): boolean;
}

const ordinal: Search = {
  indexOf: (s, pattern, from = 0) => s.indexOf(pattern, from),
  startsWith: (s, pattern) => s.startsWith(pattern),
};

const tertiary = new Intl.Collator('und', { sensitivity: 'variant', usage: 'sort' });
const primaryOnly = new Intl.Collator('und', { sensitivity: 'base', usage: 'sort' });
const secondaryToo = new Intl.Collator('und', { sensitivity: 'accent', usage: 'sort' });
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });
const ignorableCache = new Map<number, boolean>();
const combiningCache = new Map<number, boolean>();

function codePointAt(s: string, i: number): { cp: number; len: number } {
  const cp = s.codePointAt(i)!;
  return { cp, len: cp > 0xffff ? 2 : 1 };
}

/** A character ICU gives no collation weight at all (skipped by search and StartsWith). */
export function isIcuIgnorable(cp: number): boolean {
  if (cp >= 0x20 && cp < 0x7f) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false; // a lone surrogate never reaches the runner as such
  let hit = ignorableCache.get(cp);
  if (hit === undefined) {
    hit = tertiary.compare(`a${String.fromCodePoint(cp)}b`, 'ab') === 0;
    ignorableCache.set(cp, hit);
  }
  return hit;
}

/** Primary weight 0, secondary weight non-zero: what SimpleAffix calls a combining character. */
function isSecondaryOnly(cp: number): boolean {
  if (cp < 0x80) return false;
  let hit = combiningCache.get(cp);
  if (hit === undefined) {
    const c = String.fromCodePoint(cp);
    hit = primaryOnly.compare(`a${c}`, 'a') === 0 && secondaryToo.compare(`a${c}`, 'a') !== 0;
    combiningCache.set(cp, hit);
  }
  return hit;
}

/** Printable ASCII and \t \v \f: CompareInfo.Icu.cs answers these ordinally (and ICU agrees). */
const PLAIN_ASCII = /^[\t\v\f\x20-\x7e]*$/;

function ignorableAt(s: string, i: number): number {
  if (i >= s.length) return 0;
  const { cp, len } = codePointAt(s, i);
  return isIcuIgnorable(cp) ? len : 0;
}

const icu: Search = {
  indexOf(s, pattern, from = 0) {
    if (PLAIN_ASCII.test(s)) return s.indexOf(pattern, from);
    // .NET hands ICU the slice from `from`: clusters are computed on it.
    const t = s.slice(from);
    const bounds = new Set<number>([t.length]);
    for (const seg of graphemes.segment(t)) bounds.add(seg.index);
    for (let i = 0; i < t.length; i += codePointAt(t, i).len) {
      if (t[i] !== pattern[0] || !bounds.has(i)) continue;
      let j = i + 1;
      let matched = true;
      for (let k = 1; k < pattern.length; k++) {
        for (let skip = ignorableAt(t, j); j < t.length && skip; skip = ignorableAt(t, j)) j += skip;
        if (t[j] !== pattern[k]) {
          matched = false;
          break;
        }
        j++;
      }
      if (!matched) continue;
      // The match may only end inside a cluster if what it would swallow weighs nothing.
      let end = j;
      while (!bounds.has(end)) end++;
      let clean = true;
      for (let x = j; x < end; x += codePointAt(t, x).len) if (!ignorableAt(t, x)) clean = false;
      if (clean) return from + i;
    }
    return -1;
  },
  startsWith(s, pattern) {
    if (PLAIN_ASCII.test(s)) return s.startsWith(pattern);
    let j = 0;
    for (const pc of pattern) {
      for (let skip = ignorableAt(s, j); j < s.length && skip; skip = ignorableAt(s, j)) j += skip;
      if (s[j] !== pc) return false;
      j++;
    }
    for (let skip = ignorableAt(s, j); j < s.length && skip; skip = ignorableAt(s, j)) j += skip;
    return j >= s.length || !isSecondaryOnly(codePointAt(s, j).cp);
  },
};

/** The runner's string.IndexOf(string[, int]) / StartsWith(string) under the given reading. */
export function cultureSearch(matching: Matching | undefined): Search {
  return matching === 'ordinal' ? ordinal : icu;
}
const searchFor = cultureSearch;

// ---------------------------------------------------------------------------------------------
// ActionCommand.TryParseV2 / TryParse
// ---------------------------------------------------------------------------------------------

export const REGISTERED_COMMANDS: readonly string[] = [
  'stop-commands', 'set-env', 'set-output', 'save-state', 'add-path', 'add-mask', 'add-matcher', 'remove-matcher',
  'warning', 'error', 'notice', 'debug', 'group', 'endgroup', 'echo',
];

/** A case-insensitive name set, like HashSet<string>(StringComparer.OrdinalIgnoreCase). */
class NameSet {
  private readonly names = new Map<string, string>();
  constructor(names: Iterable<string>) {
    for (const n of names) this.add(n);
  }
  has(name: string): boolean {
    return this.names.has(foldCase(name));
  }
  add(name: string): void {
    if (!this.has(name)) this.names.set(foldCase(name), name);
  }
  delete(name: string): void {
    this.names.delete(foldCase(name));
  }
}

/**
 * OrdinalIgnoreCase compares simple (one-to-one) upper-case mappings, except that .NET keeps
 * U+0131 (dotless i) and U+017F (long s) as they are (pal_casing.c InitOrdinalCasingPage).
 */
function foldCase(s: string): string {
  let out = '';
  for (const ch of s) {
    const up = ch === '\u0131' || ch === '\u017F' ? ch : ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

function equalsIgnoreCase(a: string, b: string): boolean {
  return foldCase(a) === foldCase(b);
}

function setProp(props: Record<string, string>, key: string, value: string): void {
  const existing = Object.keys(props).find((k) => equalsIgnoreCase(k, key));
  props[existing ?? key] = value;
}

function tryParseV2(line: string, registered: NameSet, search: Search): ParsedCommand | null {
  if (line === '') return null;
  const message = dotnetTrimStart(line);
  if (!search.startsWith(message, '::')) return null;
  const end = search.indexOf(message, '::', 2);
  if (end < 0) return null;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!registered.has(name)) return null;
  const props: Record<string, string> = {};
  if (space > 0) {
    for (const pair of dotnetSplitRemoveEmpty(dotnetTrim(info.slice(space + 1)), ',')) {
      const kv = dotnetSplitRemoveEmpty(pair, '=', 2);
      if (kv.length === 2) setProp(props, kv[0]!, replaceSequence(kv[1]!, UNESCAPE_PROPERTY));
    }
  }
  return { form: 'v2', name, props, message: replaceSequence(message.slice(end + 2), UNESCAPE_DATA) };
}

function tryParseLegacy(line: string, registered: NameSet, search: Search): ParsedCommand | null {
  if (line === '') return null;
  const prefix = search.indexOf(line, '##[');
  if (prefix < 0) return null;
  const rb = line.indexOf(']', prefix);
  if (rb < 0) return null;
  const info = line.slice(prefix + 3, rb);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!registered.has(name)) return null;
  const props: Record<string, string> = {};
  if (space > 0) {
    for (const pair of dotnetSplitRemoveEmpty(info.slice(space + 1), ';')) {
      const kv = dotnetSplitRemoveEmpty(pair, '=', 2);
      if (kv.length === 2) setProp(props, kv[0]!, replaceSequence(kv[1]!, UNESCAPE_LEGACY));
    }
  }
  return { form: 'legacy', name, props, message: replaceSequence(line.slice(rb + 1), UNESCAPE_LEGACY) };
}

/**
 * How the runner would read one line on its own (fresh state: no stop token registered):
 * the v2 parse, else the legacy parse, else null.
 */
export function parseCommandLine(line: string, options: Pick<RunnerOptions, 'matching'> = {}): ParsedCommand | null {
  const registered = new NameSet(REGISTERED_COMMANDS);
  const search = searchFor(options.matching);
  return tryParseV2(line, registered, search) ?? tryParseLegacy(line, registered, search);
}

// ---------------------------------------------------------------------------------------------
// SecretMasker
// ---------------------------------------------------------------------------------------------

class Masker {
  readonly values: string[] = [];
  add(value: string): void {
    if (value !== '' && !this.values.includes(value)) this.values.push(value);
  }
  mask(input: string): string {
    const spans: Array<[number, number]> = [];
    for (const v of this.values) {
      for (let i = input.indexOf(v); i >= 0; i = input.indexOf(v, i + 1)) spans.push([i, i + v.length]);
    }
    if (!spans.length) return input;
    spans.sort((a, b) => a[0] - b[0]);
    let out = '';
    let pos = 0;
    let cur: [number, number] | null = null;
    for (const span of spans) {
      if (cur && span[0] <= cur[1]) cur[1] = Math.max(cur[1], span[1]);
      else {
        if (cur) {
          out += `${input.slice(pos, cur[0])}***`;
          pos = cur[1];
        }
        cur = [span[0], span[1]];
      }
    }
    if (cur) {
      out += `${input.slice(pos, cur[0])}***`;
      pos = cur[1];
    }
    return out + input.slice(pos);
  }
}

// ---------------------------------------------------------------------------------------------
// The runner loop: OutputManager.OnDataReceived + ActionCommandManager.TryProcessCommand
// ---------------------------------------------------------------------------------------------

const OMIT_ECHO = new Set(['add-mask', 'debug', 'warning', 'error', 'notice']);
const MAX_ISSUES_PER_TYPE = 10;
const MAX_ISSUE_MESSAGE = 4096;
const DISABLED_MESSAGE = (cmd: string) =>
  `The \`${cmd}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the \`ACTIONS_ALLOW_UNSECURE_COMMANDS\` environment variable to \`true\`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/`;
const DEPRECATED_MESSAGE = (cmd: string) =>
  `The \`${cmd}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/`;
const BAD_STOP_TOKEN =
  "You cannot use a endToken that is an empty string, the string 'pause-logging', or another workflow command. For more information see: https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions#example-stopping-and-starting-workflow-commands or opt into insecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`.";

class CommandError extends Error {}

/** Runs one stream through the runner's command loop. */
export function parseRunnerLog(stdout: string, options: RunnerOptions = {}): RunnerLog {
  const search = searchFor(options.matching);
  const enhanced = options.enhancedAnnotations ?? true;
  const registered = new NameSet(REGISTERED_COMMANDS);
  const masker = new Masker();
  const lines = splitRunnerLines(stdout);
  const log: RunnerLog = {
    lines, commands: [], suspended: [], masks: masker.values, visibleLines: [], annotations: [],
    outputs: {}, state: {}, env: {}, paths: [], stepFailed: false,
  };
  let echo = options.stepDebug ?? false;
  let stopped = false;
  let stopToken: string | null = null;
  const issueCounts = { error: 0, warning: 0, notice: 0 };

  const write = (text: string) => log.visibleLines.push(masker.mask(text));
  const debug = (text: string) => {
    if (options.stepDebug) for (const l of text.replaceAll('\r\n', '\n').split('\n')) write(`##[debug]${l}`);
  };
  const issue = (level: Annotation['level'], message: string, props: Record<string, string>, line: number) => {
    const masked = masker.mask(message).slice(0, MAX_ISSUE_MESSAGE);
    const recorded = issueCounts[level] < MAX_ISSUES_PER_TYPE;
    if (recorded) issueCounts[level]++;
    log.annotations.push({ level, message: masked, props, line, recorded });
    if (masked !== '') write(`##[${level}]${masked}`);
  };

  const runExtension = (cmd: ParsedCommand, raw: string, lineNo: number): void => {
    const key = cmd.name.toLowerCase();
    const prop = (name: string) => Object.entries(cmd.props).find(([k]) => equalsIgnoreCase(k, name))?.[1];
    switch (key) {
      case 'set-output':
      case 'save-state': {
        if (options.deprecateStepOutputCommands) issue('warning', DEPRECATED_MESSAGE(key), {}, lineNo);
        const name = prop('name');
        if (!name) throw new CommandError(`Required field 'name' is missing in ##[${key}] command.`);
        (key === 'set-output' ? log.outputs : log.state)[name] = cmd.message;
        return;
      }
      case 'set-env': {
        if (!options.allowUnsecureCommands) throw new CommandError(DISABLED_MESSAGE(key));
        const name = prop('name');
        if (!name) throw new CommandError("Required field 'name' is missing in ##[set-env] command.");
        if (equalsIgnoreCase(name, 'NODE_OPTIONS')) {
          issue('error', "Can't update NODE_OPTIONS environment variable using ::set-env:: command.", {}, lineNo);
          return;
        }
        log.env[name] = cmd.message;
        return;
      }
      case 'add-path':
        if (!options.allowUnsecureCommands) throw new CommandError(DISABLED_MESSAGE(key));
        if (cmd.message === '') throw new CommandError("Value cannot be null. (Parameter 'path')");
        log.paths.push(cmd.message);
        return;
      case 'add-mask':
        if (dotnetTrim(cmd.message) === '') {
          issue('warning', "Can't add secret mask for empty string in ##[add-mask] command.", {}, lineNo);
          return;
        }
        if (echo) write('::add-mask::***');
        masker.add(cmd.message);
        for (const part of cmd.message.split(/[\r\n]/)) masker.add(dotnetTrim(part));
        return;
      case 'add-matcher':
        // Loads a problem-matcher file from the workspace: not modelled beyond the empty case.
        if (cmd.message === '') issue('warning', 'File path must be specified.', {}, lineNo);
        return;
      case 'remove-matcher': {
        const owner = prop('owner');
        if (owner && cmd.message) issue('warning', 'Either specify an owner name or a file path in ##[remove-matcher] command. Both values cannot be set.', {}, lineNo);
        else if (!owner && !cmd.message) issue('warning', 'Either an owner name or a file path must be specified in ##[remove-matcher] command.', {}, lineNo);
        return;
      }
      case 'debug':
        debug(cmd.message);
        return;
      case 'warning':
      case 'error':
      case 'notice':
        if (!enhanced) debug("Enhanced Annotations not enabled on the server. The 'title', 'end_line', and 'end_column' fields are unsupported.");
        // Only the message goes through the masker; title, file and the other properties do not.
        issue(key, cmd.message, cmd.props, lineNo);
        return;
      case 'group':
        write(`##[group]${cmd.message}`);
        return;
      case 'endgroup':
        write('##[endgroup]');
        return;
      case 'echo': {
        if (cmd.message === '') throw new CommandError("Value cannot be null. (Parameter 'value')");
        const v = dotnetTrim(cmd.message).toUpperCase();
        if (v === 'ON' || v === 'OFF') {
          echo = v === 'ON';
          debug(`Setting echo command value to '${v.toLowerCase()}'`);
          return;
        }
        throw new CommandError(`Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: '${cmd.message}'.`);
      }
      default:
        issue('warning', `Can't find command extension for ##[${cmd.name}.command].`, {}, lineNo);
    }
  };

  /** TryProcessCommand: true when the line was consumed as a command. */
  const tryProcess = (raw: string, lineNo: number): boolean => {
    const cmd = tryParseV2(raw, registered, search) ?? tryParseLegacy(raw, registered, search);
    if (!cmd) return false;
    if (!enhanced && cmd.name === 'notice') {
      debug("Enhanced Annotations not enabled on the server: 'notice' command will not be processed.");
      return false;
    }
    const record = (outcome: RunnerCommand['outcome'], error?: string): RunnerCommand => ({
      ...cmd, line: lineNo, raw, outcome, ...(error === undefined ? {} : { error }),
    });
    if (stopped) {
      if (stopToken && equalsIgnoreCase(cmd.name, stopToken)) {
        write(raw);
        debug('Resume processing commands');
        registered.delete(stopToken);
        stopped = false;
        stopToken = null;
        log.commands.push(record('resume'));
        return true;
      }
      debug(`Process commands has been stopped and waiting for '##[${stopToken}]' to resume.`);
      log.suspended.push(record('suspended'));
      return false;
    }
    if (equalsIgnoreCase(cmd.name, 'stop-commands')) {
      const token = cmd.message;
      const invalid = token === '' || registered.has(token) || equalsIgnoreCase(token, 'pause-logging');
      if (invalid && !options.allowUnsecureStopCommandTokens) {
        log.commands.push(record('failed', BAD_STOP_TOKEN));
        log.stepFailed = true;
        throw new CommandError(BAD_STOP_TOKEN);
      }
      stopToken = token;
      stopped = true;
      registered.add(token);
      if (token.length > 6) masker.add(token);
      write(raw);
      debug('Paused processing commands until the token you called ::stopCommands:: with is received');
      log.commands.push(record('stop'));
      return true;
    }
    const key = cmd.name.toLowerCase();
    if (echo && !OMIT_ECHO.has(key)) write(raw);
    try {
      runExtension(cmd, raw, lineNo);
      log.commands.push(record('ran'));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      issue('error', `Unable to process command '${OMIT_ECHO.has(key) ? cmd.name : raw}' successfully.`, {}, lineNo);
      issue('error', message, {}, lineNo);
      log.stepFailed = true;
      log.commands.push(record('failed', message));
    }
    return true;
  };

  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line !== '' && (search.indexOf(line, '##[') >= 0 || search.indexOf(line, '::') >= 0)) {
      try {
        if (tryProcess(line, i + 1)) continue;
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        log.abortedAtLine = i + 1;
        break;
      }
    }
    if (line.includes('##[start-action') || line.includes('##[end-action')) {
      line = line.replaceAll('##[start-action', '##[\\start-action').replaceAll('##[end-action', '##[\\end-action');
    }
    write(line);
  }
  return log;
}

// ---------------------------------------------------------------------------------------------
// Assertion helpers
// ---------------------------------------------------------------------------------------------

export type Streams = string | { stdout: string; stderr?: string };

/**
 * Every command the runner could act on in the output, with both the ICU and the ordinal reading,
 * stdout and stderr each parsed from a fresh state (which can only find more), that `allowed`
 * rejects. Suspended commands count too: a later resume would have made them live.
 */
export function unexpectedCommands(
  output: Streams,
  allowed: (cmd: RunnerCommand) => boolean = () => false,
  options: Omit<RunnerOptions, 'matching'> = {},
): RunnerCommand[] {
  const streams = typeof output === 'string' ? [output] : [output.stdout, output.stderr ?? ''];
  const found = new Map<string, RunnerCommand>();
  for (const text of streams) {
    for (const matching of ['icu', 'ordinal'] as const) {
      const log = parseRunnerLog(text, { ...options, matching });
      for (const cmd of [...log.commands, ...log.suspended]) {
        if (allowed(cmd)) continue;
        found.set(`${cmd.line}\u0000${cmd.form}\u0000${cmd.name}\u0000${cmd.raw}`, cmd);
      }
    }
  }
  return [...found.values()];
}

/** What the log viewer shows for one stream (masked; `##[warning]…` lines as the raw log has them). */
export function maskedLog(stdout: string, options: RunnerOptions = {}): string {
  return parseRunnerLog(stdout, options).visibleLines.join('\n');
}

/** What @actions/core writes to stdout while `fn` runs. */
export function printed(fn: () => void): string {
  const chunks: string[] = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = original;
  }
  return chunks.join('');
}
