/**
 * The log oracle (support/runner-log.ts) models how actions/runner reads workflow commands from a
 * step's output. Each table row states one rule of the runner and checks the model obeys it; the
 * @actions/core rows feed the oracle what the real library prints. report/neutralize.test.ts
 * then runs the action's `neutralize` over hostile text through the oracle.
 */
import * as core from '@actions/core';
import { describe, expect, it } from 'vitest';
import {
  maskedLog,
  parseCommandLine,
  parseRunnerLog,
  printed,
  splitRunnerLines,
  unexpectedCommands,
  type Matching,
  type ParsedCommand,
  type RunnerOptions,
} from '../support/runner-log.js';

const BOTH: Matching[] = ['icu', 'ordinal'];

const names = (stream: string, options: RunnerOptions = {}) => parseRunnerLog(stream, options).commands.map((c) => `${c.outcome}:${c.name}`);

describe('the runner splits a step output into lines with StreamReader.ReadLine', () => {
  it.each([
    ['a lone \\r ends a line', 'a\rb', ['a', 'b']],
    ['\\r\\n is one line break, not two', 'a\r\nb', ['a', 'b']],
    ['\\n\\r is two breaks with an empty line between', 'a\n\rb', ['a', '', 'b']],
    ['a final line break adds no empty line', 'a\n', ['a']],
    ['an unterminated last line still counts', 'a\nb', ['a', 'b']],
    ['empty lines in between are kept', 'a\n\nb', ['a', '', 'b']],
    ['U+2028, U+2029, U+0085 and form feed do not end a line', 'a\u2028b\u2029c\u0085d\fe', ['a\u2028b\u2029c\u0085d\fe']],
    ['a BOM at the very start of the stream is dropped, a later one is kept', '\uFEFFa\n\uFEFFb', ['a', '\uFEFFb']],
  ])('%s', (_rule, stream, lines) => {
    expect(splitRunnerLines(stream)).toEqual(lines);
  });

  it('so a command can hide behind a carriage return in a progress line', () => {
    const log = parseRunnerLog('uploading 50%\r::warning::injected\n');
    expect(log.commands.map((c) => [c.line, c.name, c.message])).toEqual([[2, 'warning', 'injected']]);
  });
});

type Expect = null | Partial<ParsedCommand>;
const rows: Array<[string, string, Expect] | [string, string, Expect, Expect]> = [
  // [rule, line, expected with ICU (and ordinal, unless a 4th column gives it)]
  ['"::warning::x" is a v2 command', '::warning::x', { form: 'v2', name: 'warning', message: 'x' }],
  ['leading spaces before "::" are trimmed, so "   ::warning::x" is a command', '   ::warning::x', { name: 'warning', message: 'x' }],
  ['tab, NBSP, U+3000 and U+2028 before "::" are trimmed too (char.IsWhiteSpace)', '\t\u00A0\u3000\u2028::warning::x', { name: 'warning' }],
  ['any other text before "::" makes the line plain output', '>>> ::warning::x', null],
  ['a zero-width space before "::" is not whitespace; the name would start with ":" so nothing fires', '\u200B::warning::x', null],
  ['command names are case-insensitive', '::WARNING::x', { name: 'WARNING', message: 'x' }],
  ['an unregistered name is not a command', '::warnings::x', null],
  ['case folding is ordinal: a dotless ı or a long ſ is not I or S', '::warnıng::x ::ſet-output name=a::b', null],
  ['the first "::" after the name separates; later "::" are data', '::warning::a::b', { message: 'a::b' }],
  ['without a second "::" there is no v2 command', '::warning x', null],
  ['v2 data unescapes %0D %0A %25 only', '::warning::%25%0D%0A%3A%2C%3B', { message: '%\r\n%3A%2C%3B' }],
  ['v2 property values also unescape %3A and %2C', '::error file=a%3Ab%2Cc,line=3::m', { props: { file: 'a:b,c', line: '3' }, message: 'm' }],
  ['unescaping happens once, so %250A reads as the text %0A', '::warning::%250A', { message: '%0A' }],
  ['lower-case escapes are left as they are', '::warning::%0a', { message: '%0a' }],
  ['a property without a value is dropped and "k==v" reads as v', '::error file=,title==t,line::m', { props: { title: 't' } }],
  ['property names are case-insensitive and the last value wins', '::set-output NAME=a,name=b::v', { props: { NAME: 'b' } }],
  ['"abc ##[set-output name=uri]x" mid-line is a legacy command', 'abc ##[set-output name=uri]x', { form: 'legacy', name: 'set-output', props: { name: 'uri' }, message: 'x' }],
  ['the legacy form splits properties on ";" and unescapes %3B %5D %0D %0A %25', '##[set-output name=a%3Bb%5D;x=1]v%3B%5D%0A%25', { props: { name: 'a;b]', x: '1' }, message: 'v;]\n%' }],
  ['a legacy command needs its "]"', 'x ##[warning y', null],
  ['only the first "##[" of a line is tried', '##[nope] ##[warning]x', null],
  ['the v2 parse wins: "::warning::x ##[set-output name=a]b" is a warning only', '::warning::x ##[set-output name=a]b', { form: 'v2', name: 'warning', message: 'x ##[set-output name=a]b' }],
  ['an unknown v2 name falls through to the legacy "##[" on the same line', '::nope::##[add-mask]s', { form: 'legacy', name: 'add-mask', message: 's' }],
  ['so does a v2 line without its separator', '::warning ##[add-mask]s', { form: 'legacy', name: 'add-mask', message: 's' }],
  ['fullwidth look-alikes are never commands', '：：warning：：x ＃＃［warning］x', null],
  // ICU (the runner's culture-sensitive IndexOf/StartsWith) against the ordinal reading.
  ['under ICU a combining mark right after the separator hides it and the legacy "##[" behind it fires', '::warning::\u0301##[set-output name=a]b', { form: 'legacy', name: 'set-output', props: { name: 'a' }, message: 'b' }, { form: 'v2', name: 'warning' }],
  ['under ICU a Prepend character (U+0600) before the separator hides it too', '::warning title=\u0600::##[add-mask]s', { form: 'legacy', name: 'add-mask', message: 's' }, { form: 'v2', name: 'warning', props: { title: '\u0600' } }],
  ['under ICU "::" followed by a combining mark does not start a command', '::\u0301warning::x', null],
  ['under ICU an ignorable character inside the separator still separates', '::warning:\u200B:x', { form: 'v2', name: 'warning', message: ':x' }, null],
  ['under ICU an ignorable inside "##[" is found, but the name then starts with "[" and nothing fires', 'x #\u200B#[warning]y', null],
];

describe('one line: ActionCommand.TryParseV2, then ActionCommand.TryParse', () => {
  it.each(rows)('%s', (_rule, line, icu, ordinal = icu) => {
    for (const [matching, expected] of [['icu', icu], ['ordinal', ordinal]] as const) {
      const parsed = parseCommandLine(line, { matching });
      if (expected === null) expect(parsed, matching).toBeNull();
      else expect(parsed, matching).toMatchObject(expected);
    }
  });
});

describe('the command loop: stop-commands, masking, echo, disabled commands', () => {
  it('after ::stop-commands::tok an ::add-mask::secret is ignored and the secret later shows in clear', () => {
    const log = parseRunnerLog('::stop-commands::tok\n::add-mask::hunter22\n::tok::\nthe secret is hunter22\n');
    expect(names('::stop-commands::tok\n::add-mask::hunter22\n::tok::\n')).toEqual(['stop:stop-commands', 'resume:tok']);
    expect(log.suspended.map((c) => c.name)).toEqual(['add-mask']);
    expect(log.masks).toEqual([]);
    expect(log.visibleLines).toEqual(['::stop-commands::tok', '::add-mask::hunter22', '::tok::', 'the secret is hunter22']);
  });

  it('outside a stop the same add-mask hides the secret on every later line and is itself not shown', () => {
    expect(maskedLog('before hunter22\n::add-mask::hunter22\nthe secret is hunter22\n::warning::hunter22!\n')).toBe(
      'before hunter22\nthe secret is ***\n##[warning]***!',
    );
  });

  it('"::tok::" resumes, case-insensitively, and commands work again', () => {
    const log = parseRunnerLog('::stop-commands::tok\n::warning::ignored\n::TOK::\n::warning::seen\n');
    expect(log.annotations.map((a) => a.message)).toEqual(['seen']);
    expect(log.visibleLines).toEqual(['::stop-commands::tok', '::warning::ignored', '::TOK::', '##[warning]seen']);
  });

  it('the legacy "##[tok]" resumes too, even mid-line', () => {
    expect(names('::stop-commands::tok\nsee ##[tok]\n::warning::w\n')).toEqual(['stop:stop-commands', 'resume:tok', 'ran:warning']);
  });

  it('a stop token longer than 6 characters is masked from its own stop line on; a 6-character one is not', () => {
    expect(maskedLog('::stop-commands::longtok\nsay longtok\n::longtok::\n')).toBe('::stop-commands::***\nsay ***\n::***::');
    expect(maskedLog('::stop-commands::abcdef\nsay abcdef\n::abcdef::\n')).toBe('::stop-commands::abcdef\nsay abcdef\n::abcdef::');
  });

  it.each([['an empty token', ''], ['a command name', 'warning'], ['pause-logging', 'PAUSE-LOGGING']])(
    'a stop token that is %s throws out of the output loop: the step fails and later lines are not read',
    (_what, token) => {
      const log = parseRunnerLog(`::stop-commands::${token}\n::warning::after\n`);
      expect([log.stepFailed, log.abortedAtLine, log.annotations]).toEqual([true, 1, []]);
      const allowed = parseRunnerLog(`::stop-commands::${token}\n::warning::after\n`, { allowUnsecureStopCommandTokens: true });
      expect(allowed.stepFailed).toBe(false);
    },
  );

  it('set-output and save-state are deprecated, not disabled: they still take effect', () => {
    const log = parseRunnerLog('::set-output name=url::https://x\n::save-state name=s::1\n');
    expect([log.outputs, log.state, log.annotations, log.stepFailed]).toEqual([{ url: 'https://x' }, { s: '1' }, [], false]);
    const warned = parseRunnerLog('::set-output name=url::https://x\n', { deprecateStepOutputCommands: true });
    expect(warned.annotations.map((a) => a.level)).toEqual(['warning']);
    expect(parseRunnerLog('::set-output::x\n').stepFailed).toBe(true);
  });

  it('set-env and add-path are disabled: each logs two errors and fails the step', () => {
    const log = parseRunnerLog('::set-env name=A::b\n::add-path::/evil\n');
    expect(log.annotations.map((a) => `${a.level}: ${a.message.split('.')[0]}`)).toEqual([
      "error: Unable to process command '::set-env name=A::b' successfully",
      'error: The `set-env` command is disabled',
      "error: Unable to process command '::add-path::/evil' successfully",
      'error: The `add-path` command is disabled',
    ]);
    expect([log.env, log.paths, log.stepFailed]).toEqual([{}, [], true]);
  });

  it('ACTIONS_ALLOW_UNSECURE_COMMANDS=true turns them back on, except set-env of NODE_OPTIONS', () => {
    const log = parseRunnerLog('::set-env name=A::b\n::add-path::/p\n::set-env name=node_options::--x\n', { allowUnsecureCommands: true });
    expect([log.env, log.paths, log.annotations.map((a) => a.level), log.stepFailed]).toEqual([{ A: 'b' }, ['/p'], ['error'], false]);
  });

  it('echo on shows later command lines, but never annotations or add-mask (shown as ::add-mask::***)', () => {
    const log = parseRunnerLog('::echo::on\n::set-output name=a::1\n::warning::w\n::add-mask::s3cret\n::group::g s3cret\n::echo::off\n::endgroup::\n');
    expect(log.visibleLines).toEqual(['::set-output name=a::1', '##[warning]w', '::add-mask::***', '::group::g ***', '##[group]g ***', '::echo::off', '##[endgroup]']);
    expect(parseRunnerLog('::echo::maybe\n').stepFailed).toBe(true);
  });

  it('step debug turns echo on from the start and shows ##[debug] lines', () => {
    expect(maskedLog('::debug::d\n::group::g\n')).toBe('##[group]g');
    expect(maskedLog('::debug::d\n::group::g\n', { stepDebug: true })).toBe('##[debug]d\n::group::g\n##[group]g');
  });

  it('notice is plain output when the server has no enhanced annotations', () => {
    const log = parseRunnerLog('::notice::n\n', { enhancedAnnotations: false });
    expect([log.commands, log.visibleLines]).toEqual([[], ['::notice::n']]);
  });

  it('an add-mask of several lines masks each trimmed line, and a blank one only warns', () => {
    expect(maskedLog('::add-mask::one%0A two \nsay one two\n')).toBe('say *** ***');
    const blank = parseRunnerLog('::add-mask::  %0A \n');
    expect([blank.masks, blank.annotations.map((a) => a.level)]).toEqual([[], ['warning']]);
  });

  it('an annotation title is not masked, only its message', () => {
    const log = parseRunnerLog('::add-mask::s3cret\n::error title=s3cret::s3cret\n');
    expect(log.annotations.map((a) => [a.props.title, a.message])).toEqual([['s3cret', '***']]);
  });

  it('masking is for display only: a masked value still becomes an output', () => {
    expect(parseRunnerLog('::add-mask::tok\n::set-output name=o::tok\n').outputs).toEqual({ o: 'tok' });
  });

  it('"##[start-action" and "##[end-action" in plain output are defused', () => {
    expect(maskedLog('x ##[start-action y\n##[end-action\n')).toBe('x ##[\\start-action y\n##[\\end-action');
  });

  it('only the first 10 annotations of a level are recorded; later ones are still logged', () => {
    const log = parseRunnerLog('::warning::w\n'.repeat(12));
    expect(log.annotations.map((a) => a.recorded)).toEqual([...Array(10).fill(true), false, false]);
    expect(log.visibleLines).toHaveLength(12);
  });

  it('stderr is read for commands too', () => {
    expect(unexpectedCommands({ stdout: 'fine\n', stderr: '::warning::x\n' }).map((c) => c.name)).toEqual(['warning']);
  });
});

describe('what @actions/core prints, as the runner reads it', () => {
  it('core.info does not escape: a newline in the text starts a line that can be a command', () => {
    expect(names(printed(() => core.info('title\n::add-mask::x')))).toEqual(['ran:add-mask']);
  });

  it('core.info with "##[" anywhere in the text fires the legacy form', () => {
    expect(parseRunnerLog(printed(() => core.info('x ##[set-output name=a]b'))).outputs).toEqual({ a: 'b' });
  });

  it('core.info with a lone \\r in the text too', () => {
    expect(names(printed(() => core.info('50%\r::stop-commands::abc')))).toEqual(['stop:stop-commands']);
  });

  it.each(BOTH)('core.warning escapes %%, \\r and \\n: the text stays one annotation (%s)', (matching) => {
    const text = 'a\n::add-mask::x\r\n##[set-output name=a]b %0A';
    const out = printed(() => core.warning(text));
    expect(out).toBe('::warning::a%0A::add-mask::x%0D%0A##[set-output name=a]b %250A\n');
    const log = parseRunnerLog(out, { matching });
    expect(log.commands.map((c) => [c.name, c.message])).toEqual([['warning', text]]);
  });

  it.each(BOTH)('core.warning("x ##[set-output name=a]b") is a warning only: the v2 parse wins (%s)', (matching) => {
    const log = parseRunnerLog(printed(() => core.warning('x ##[set-output name=a]b')), { matching });
    expect([log.commands.map((c) => c.name), log.outputs]).toEqual([['warning'], {}]);
  });

  it('core.error escapes ":" and "," in properties, so they cannot end the command early', () => {
    const out = printed(() => core.error('m', { title: 'a::b,c=d', file: 'x,y' }));
    expect(out).toBe('::error title=a%3A%3Ab%2Cc=d,file=x%2Cy::m\n');
    expect(parseRunnerLog(out).commands[0]!.props).toEqual({ title: 'a::b,c=d', file: 'x,y' });
  });

  it('but under ICU core.warning(text starting with a combining mark) loses its separator and a "##[" in the text fires', () => {
    const out = printed(() => core.warning('\u0301##[set-output name=a]b'));
    expect(parseRunnerLog(out, { matching: 'icu' }).outputs).toEqual({ a: 'b' });
    expect(parseRunnerLog(out, { matching: 'ordinal' }).outputs).toEqual({});
  });

  it('and so does a title ending in a Prepend character', () => {
    const out = printed(() => core.warning('m', { title: '##[set-output name=a]b\u0600' }));
    expect(parseRunnerLog(out, { matching: 'icu' }).outputs).toEqual({ a: 'b\u0600::m' });
  });
});
