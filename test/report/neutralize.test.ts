/**
 * src/report/neutralize.ts, checked through the log oracle (support/runner-log.ts, a model of
 * how actions/runner reads workflow commands): hostile text, neutralized and logged every way
 * the action logs untrusted text, never yields a command, and an annotation keeps its text.
 * neutralizeMinimal, the smallest rules that are enough against commands, is kept beside it to
 * show what the rest of neutralize is for.
 */
import * as core from '@actions/core';
import { describe, expect, it } from 'vitest';
import { neutralize } from '../../src/report/neutralize.js';
import { parseRunnerLog, printed, splitRunnerLines, unexpectedCommands, type Matching } from '../support/runner-log.js';

const BOTH: Matching[] = ['icu', 'ordinal'];

/**
 * The smallest rules that keep untrusted text from being a command, wherever it sits in a line.
 * Why each is enough (see the oracle's notes): the runner splits lines only at \r and \n; a v2
 * command needs the line, after .NET whitespace, to start with "::", and a ":" that ICU reaches by
 * skipping an invisible character leaves the name starting at a ":" or that character, never a
 * command name; a legacy command needs "##[", and a "##[" ICU finds across invisible characters
 * makes the runner read the name from prefixIndex + 3, which lands before the "[": again no name.
 */
function neutralizeMinimal(untrusted: string): string {
  return String(untrusted)
    .replace(/[\r\n]/g, (c) => (c === '\r' ? '\u240D' : '\u240A'))
    .replace(/##(?=\[)/g, '##\\')
    .replace(/^[\s\u0085]*(?=:)/, '$&\\')
    .replace(/^#?(?=\[)/, '$&\\');
}

const HOSTILE = [
  '::warning::x', '   ::add-mask::secret', '\t::set-output name=url::https://evil', '\u00A0\u3000::error::x',
  'x ##[set-output name=url]https://evil', '##[add-mask]secret', '##[stop-commands]tok', '##[group]fake', '##[start-action x',
  'title\n::add-mask::x', 'title\r::stop-commands::tok', 'a\r\n::set-env name=NODE_OPTIONS::--require=/tmp/x', '\n##[error]x',
  '::stop-commands::', '::echo::on', '::WARNING::x', '::Set-Output name=a::b', '%0A::warning::x', '%0D%0A##[warning]x',
  '\u200B::warning::x', ':\u200B:warning::x', '#\u200B#[warning]x', '#\u200D#\u200D[warning]x', '##\u0301[warning]x',
  '\u0301##[set-output name=a]b', '\u0903##[add-mask]s', '\u{1F3FB}##[add-mask]s', '##[set-output name=a]b\u0600',
  '::warning:\u200B:x', '\uFEFF::warning::x', ':', '::', '#', '##', '[', '#[warning]x', '[warning]x', ':warning::x',
  '\u001b[31mred\u001b[0m ##[warning]x', '\u202Egnp.exe', 'file\u2028::warning::x', 'x\u0085::warning::x',
  'C# ##[warning]', '###[warning]x', '##[##[warning]x', '::nope::##[add-mask]s', '::warning ##[add-mask]s',
  '\u0085::warning::x', '\u2028\u2029::warning::x', '\u180E::warning::x', '\u0000::warning::x', '\u00AD##[warning]x', '# # [warning]', '\\##[warning]x', '%##[warning]x',
];

/**
 * How the runner reads back a property value core wrote: Split('=', 2, RemoveEmptyEntries) drops
 * leading "=", the property list is Trim()med (the last value loses trailing whitespace), and an
 * empty value is no property. Quirks, not injections: the text stays inside its property.
 */
function propertyAsRead(value: string, last: boolean): string | undefined {
  let v = value.replace(/^=+/, '');
  if (last) v = v.replace(/[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$/, '');
  return v === '' ? undefined : v;
}

/** Every way the action might log a piece of untrusted text. */
const SINKS: Array<[string, (n: string) => string]> = [
  ['core.info(text)', (n) => printed(() => core.info(n))],
  ['core.info(prefix + text)', (n) => printed(() => core.info(`Post title: ${n}`))],
  ['core.info(text + suffix)', (n) => printed(() => core.info(`${n} (skipped)`))],
  ['core.info(spaces + text)', (n) => printed(() => core.info(`   ${n}`))],
  ['core.info("#" + text)', (n) => printed(() => core.info(`#${n}`))],
  ['core.info(text + text)', (n) => printed(() => core.info(n + n))],
  ['core.info(text + " " + text)', (n) => printed(() => core.info(`${n} ${n}`))],
];

/** Seeded generator of hostile strings from the pieces the runner reacts to. */
function* generated(count: number): Generator<string> {
  const pieces = [
    ':', '::', '#', '##', '##[', '[', ']', '\r', '\n', '\r\n', ' ', '\t', '\u00A0', '\u200B', '\u200D', '\u0301', '\u0600',
    '\uFEFF', '\u00AD', '\u0000', '%0A', '%25', '=', ',', ';', 'warning', 'set-output name=a', 'add-mask', 'stop-commands',
    'tok', 'x', '\u001b[', '\u2028', 'é', '\u{1F3FB}', '\u0903', '::warning::', '##[warning]', '::add-mask::', '##[add-mask]',
  ];
  let seed = 20260817;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let k = 1 + next(8); k > 0; k--) s += pieces[next(pieces.length)];
    yield s;
  }
}

const CORPUS = [...HOSTILE, ...generated(1500)];

describe('neutralize, checked through the oracle', () => {
  it('the corpus is hostile: logged raw with core.info, most of it injects commands', () => {
    const injecting = CORPUS.filter((h) => unexpectedCommands(printed(() => core.info(h))).length > 0);
    expect(injecting.length).toBeGreaterThan(CORPUS.length / 5);
    for (const h of [...HOSTILE.slice(0, 8), ...HOSTILE.slice(9, 13)]) expect(injecting, JSON.stringify(h)).toContain(h);
  });

  const bothFunctions = SINKS.flatMap(([sink, log]) => [['neutralize', sink, log], ['neutralizeMinimal', sink, log]] as const);
  it.each(bothFunctions)('after %s, %s never yields a command (ICU and ordinal)', (which, _sink, log) => {
    const neutral = which === 'neutralize' ? neutralize : neutralizeMinimal;
    for (const h of CORPUS) {
      const out = log(neutral(h));
      expect(unexpectedCommands(out), JSON.stringify({ hostile: h, out })).toEqual([]);
      expect(splitRunnerLines(out), JSON.stringify(h)).toHaveLength(1);
    }
  });

  it('after neutralizeMinimal, core.warning and core.error never yield any other command (ICU and ordinal)', () => {
    for (const h of CORPUS) {
      const n = neutralizeMinimal(h);
      const out = printed(() => {
        core.warning(n);
        core.error(n, { title: n, file: n });
      });
      expect(unexpectedCommands(out, (c) => c.name === 'warning' || c.name === 'error'), JSON.stringify(h)).toEqual([]);
    }
  });

  it('but only neutralize keeps, under ICU, an annotation whose text starts with a combining mark', () => {
    const lost = parseRunnerLog(printed(() => core.warning(neutralizeMinimal('\u0301 accent'))), { matching: 'icu' });
    expect([lost.commands, lost.visibleLines]).toEqual([[], ['::warning::\u0301 accent']]);
    const kept = parseRunnerLog(printed(() => core.warning(neutralize('\u0301 accent'))), { matching: 'icu' });
    expect(kept.annotations.map((a) => a.message)).toEqual(['\u25CC\u0301 accent']);
  });

  it.each([
    ['core.warning(text)', (n: string) => printed(() => core.warning(n)), 'warning'],
    ['core.error(text, { title: text, file: text })', (n: string) => printed(() => core.error(n, { title: n, file: n })), 'error'],
    ['core.notice(text, { title: text })', (n: string) => printed(() => core.notice(n, { title: n })), 'notice'],
    ['core.startGroup(text)', (n: string) => printed(() => core.startGroup(n)), 'group'],
  ] as const)('after neutralize, %s is exactly that one command, its text intact (ICU and ordinal)', (_sink, log, name) => {
    for (const h of CORPUS) {
      const n = neutralize(h);
      for (const matching of BOTH) {
        const parsed = parseRunnerLog(log(n), { matching });
        const what = JSON.stringify({ hostile: h, matching });
        expect(parsed.commands.map((c) => [c.name, c.message]), what).toEqual([[name, n]]);
        if (name === 'error' || name === 'notice') expect(parsed.commands[0]!.props.title, what).toBe(propertyAsRead(n, name === 'notice'));
        expect(parsed.suspended, what).toEqual([]);
      }
    }
  });

  it('neutralize is idempotent', () => {
    for (const h of CORPUS) expect(neutralize(neutralize(h)), JSON.stringify(h)).toBe(neutralize(h));
  });

  it('ordinary text passes unchanged', () => {
    const plain = [
      'Release v1.2.0: fixes #12 [skip ci]', 'C# and F#', 'std::vector<int>', 'fe80::1', 'see [docs](https://x.y/#a)',
      'Café 👨‍👩‍👧 🇫🇷 ✔️', 'posts/2026-08-17-launch.md', 'Ünïcödé — “quotes”', '50% done', 'a:b', '#hashtag', 'tab\there',
    ];
    for (const p of plain) expect(neutralize(p)).toBe(p);
  });

  it.each([
    ['a line break shows as a control picture', 'a\nb\r\nc', 'a␊b␍␊c'],
    ['ANSI escapes show as ␛ and cannot colour the log', '\u001b[31mred', '␛[31mred'],
    ['"##[" anywhere gets a backslash before its "["', 'x ##[set-output name=a]b', 'x ##\\[set-output name=a]b'],
    ['a leading ":" gets a backslash', '  ::warning::x', '  \\::warning::x'],
    ['a leading "[" or "#[" gets one too, so no prefix ending in "#" can complete "##["', '#[warning]x', '#\\[warning]x'],
    ['a leading combining mark gets a dotted-circle base', '\u0301x', '\u25CC\u0301x'],
    ['a trailing Prepend character gets a dotted-circle after it', 'x\u0600', 'x\u0600\u25CC'],
    ['bidi overrides become U+FFFD', 'evil\u202Egnp.exe', 'evil\uFFFDgnp.exe'],
  ])('%s', (_rule, input, output) => {
    expect(neutralize(input)).toBe(output);
  });

  it('fragments are safe to join, but neutralize whole lines: trusted text after a fragment must not start with "["', () => {
    expect(unexpectedCommands(printed(() => core.info(`${neutralize('C##')}[warning]x`)))).not.toEqual([]);
    expect(unexpectedCommands(printed(() => core.info(neutralize('C##[warning]x'))))).toEqual([]);
  });
});
