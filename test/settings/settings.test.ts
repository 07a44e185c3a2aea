import { describe, expect, it } from 'vitest';
import { parseInputs } from '../../src/settings/settings.js';

const ACCOUNT = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

function parse(inputs: Record<string, string>) {
  return parseInputs((name) => inputs[name] ?? '');
}

describe('input parsing', () => {
  it('an inline post becomes one target with the platform and account', () => {
    const { settings, errors } = parse({ text: 'Hello', platform: 'bluesky', 'account-id': ACCOUNT });
    expect(errors).toEqual([]);
    expect(settings.inline).toMatchObject({ text: 'Hello', targets: [{ platform: 'bluesky', account: ACCOUNT }] });
    expect(settings.dryRun).toBe(false);
    expect(settings.letmepost.apiUrl).toBe('https://api.letmepost.dev');
  });

  it('x is accepted and sent as twitter', () => {
    const { settings } = parse({ text: 'Hello', platform: 'X', 'account-id': ACCOUNT });
    expect(settings.inline?.targets).toEqual([{ platform: 'twitter', account: ACCOUNT }]);
  });

  it('keeps the newlines of a multi-line text and drops the trailing one', () => {
    const { settings } = parse({ text: 'Line one\n\nLine two\n', platform: 'bluesky', 'account-id': ACCOUNT });
    expect(settings.inline?.text).toBe('Line one\n\nLine two');
  });

  it('auto picks the direct Bluesky publisher when only Bluesky credentials are given', () => {
    const { settings } = parse({ text: 'Hello', platform: 'bluesky', 'bluesky-identifier': 'me.bsky.social', 'bluesky-app-password': 'abcd-efgh-ijkl-mnop' });
    expect(settings.inline?.targets).toEqual([{ platform: 'bluesky', account: 'bluesky' }]);
  });

  it('reads a media list and a targets list written in YAML', () => {
    const { settings, errors } = parse({
      text: 'Hello',
      targets: `- platform: bluesky\n  account: ${ACCOUNT}\n- platform: x\n  account: ${ACCOUNT}`,
      media: '- path: a.png\n  alt: A chart',
    });
    expect(errors).toEqual([]);
    expect(settings.inline?.targets).toHaveLength(2);
    expect(settings.inline?.media).toEqual([{ path: 'a.png', alt: 'A chart' }]);
  });

  it.each([
    ['platform', { text: 'Hi', platform: 'myspace', 'account-id': ACCOUNT }, /Input 'platform' is 'myspace'; expected one of bluesky, twitter/],
    ['platform', { text: 'Hi', 'account-id': ACCOUNT }, /Input 'platform' is required/],
    ['account-id', { text: 'Hi', platform: 'bluesky' }, /Input 'account-id' is required/],
    ['account-id', { text: 'Hi', platform: 'twitter', 'account-id': 'acct_123' }, /Input 'account-id' is 'acct_123', which is not a uuid/],
    ['dry-run', { text: 'Hi', platform: 'bluesky', 'account-id': ACCOUNT, 'dry-run': 'yes' }, /Input 'dry-run' is 'yes'; expected true or false/],
    ['publisher', { text: 'Hi', platform: 'bluesky', 'account-id': ACCOUNT, publisher: 'buffer' }, /Input 'publisher' is 'buffer'; expected one of auto, letmepost/],
    ['idempotency-key', { text: 'Hi', platform: 'bluesky', 'account-id': ACCOUNT, 'idempotency-key': 'has spaces!' }, /Input 'idempotency-key' is 'has spaces!'; use 1 to 128/],
    ['media', { text: 'Hi', platform: 'bluesky', 'account-id': ACCOUNT, media: 'path: a.png' }, /Input 'media' must be a YAML list/],
    ['media', { text: 'Hi', platform: 'bluesky', 'account-id': ACCOUNT, media: '- [unclosed' }, /Input 'media' is not valid YAML/],
    ['letmepost-api-url', { text: 'Hi', platform: 'bluesky', 'account-id': ACCOUNT, 'letmepost-api-url': 'ftp://x' }, /Input 'letmepost-api-url' is 'ftp:\/\/x'; expected an http\(s\) URL/],
    ['timeout-seconds', { text: 'Hi', platform: 'bluesky', 'account-id': ACCOUNT, 'timeout-seconds': '0' }, /Input 'timeout-seconds' is '0'/],
    ['targets', { text: 'Hi', platform: 'bluesky', targets: `- platform: bluesky\n  account: ${ACCOUNT}` }, /cannot be combined with 'platform'/],
  ])("a bad '%s' is named, with the value and the fix", (input, inputs, message) => {
    const { errors } = parse(inputs);
    expect(errors.map((e) => e.input)).toContain(input);
    expect(errors.map((e) => e.message).join('\n')).toMatch(message);
  });
});

describe('Bluesky credentials as users type them', () => {
  const base = { text: 'hi', platform: 'bluesky', 'bluesky-app-password': 'abcd-efgh-ijkl-mnop' };
  const parse = (inputs: Record<string, string>) => parseInputs((name) => inputs[name] ?? '');

  it.each([
    ['@alice.bsky.social', 'alice.bsky.social'],
    ['alice.bsky.social', 'alice.bsky.social'],
    ['did:plc:abc123', 'did:plc:abc123'],
    ['alice@example.com', 'alice@example.com'],
  ])("bluesky-identifier '%s' is used as '%s'", (typed, used) => {
    const { settings, errors } = parse({ ...base, 'bluesky-identifier': typed });
    expect(errors).toEqual([]);
    expect(settings.bluesky.identifier).toBe(used);
  });

  it("an empty 'bluesky-app-password' next to an identifier is named, not letmepost's account id", () => {
    const { errors } = parse({ text: 'hi', platform: 'bluesky', 'bluesky-identifier': 'alice.bsky.social' });
    expect(errors.map((e) => e.input)).toEqual(['bluesky-app-password']);
    expect(errors[0]?.message).toMatch(/is empty, but 'bluesky-identifier' is set to post to Bluesky directly; pass the app password from a secret .*secret's name matches/);
  });

  it("an empty 'bluesky-identifier' next to an app password is named", () => {
    const { errors } = parse({ text: 'hi', platform: 'bluesky', 'bluesky-app-password': 'abcd-efgh-ijkl-mnop' });
    expect(errors.map((e) => e.input)).toEqual(['bluesky-identifier']);
  });
});
