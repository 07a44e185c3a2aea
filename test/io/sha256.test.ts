/**
 * The plain-JavaScript SHA-256 (src/io/sha256.ts) gives node:crypto's digest for every input
 * the action hashes and around every padding boundary: keys and ledger entries depend on it,
 * and a different digest would give every post a new identity.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Base64Url, sha256Hex } from '../../src/io/sha256.js';

const node = (m: string | Uint8Array) => createHash('sha256').update(m).digest('hex');

describe('SHA-256 without node:crypto', () => {
  it.each([
    ['the empty string', ''],
    ['abc (FIPS 180-4 example)', 'abc'],
    ['two blocks (FIPS 180-4 example)', 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'],
    ['a key derivation input', JSON.stringify(['inline', 'octo/widgets', '9f2c1e4b', 'Release', 'announce', '__letmepost', '1001', 'bluesky', '1b4e28ba'])],
    ['non-ASCII text (UTF-8)', 'Grüße 🎉 リリース ⏎ \u0000 end'],
  ])('%s', (_, text) => {
    expect(sha256Hex(text)).toBe(node(text));
    expect(sha256Base64Url(text)).toBe(createHash('sha256').update(text).digest('base64url'));
  });

  it('every length from 0 to 300 bytes (each padding case), and long inputs', () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = randomBytes(n);
      expect(sha256Hex(bytes), `${n} bytes`).toBe(node(bytes));
    }
    const long = randomBytes(1_000_003);
    expect(sha256Hex(long)).toBe(node(long));
  });
});
