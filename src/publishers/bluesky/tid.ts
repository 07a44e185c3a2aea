/**
 * Record keys for Bluesky posts: TIDs derived from the post's idempotency key and a stable
 * time, so every run computes the same key for the same post (ARCHITECTURE.md, Exactly once).
 *
 * A TID is a 64-bit integer — top bit 0, then 53 bits of microseconds since the UNIX
 * epoch, then a 10-bit clock id — written as 13 characters of base32-sortable.
 */
import { sha256 } from '../../io/sha256.js';

const ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
const TID_PATTERN = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
const MAX_MICROS = 2n ** 53n - 1n;

export function isValidTid(value: string): boolean {
  return TID_PATTERN.test(value);
}

/** Encodes a timestamp (µs since the epoch) and a clock id (0–1023) as a 13-character TID. */
export function encodeTid(micros: bigint, clockId: number): string {
  if (micros < 0n || micros > MAX_MICROS) throw new RangeError(`TID timestamp ${micros} µs is outside 0..2^53-1`);
  if (!Number.isInteger(clockId) || clockId < 0 || clockId > 1023) throw new RangeError(`TID clock id ${clockId} is outside 0..1023`);
  let value = (micros << 10n) | BigInt(clockId);
  let out = '';
  for (let i = 0; i < 13; i++) {
    out = ALPHABET[Number(value & 31n)]! + out;
    value >>= 5n;
  }
  return out;
}

export function decodeTid(tid: string): { micros: bigint; clockId: number } {
  if (!isValidTid(tid)) throw new RangeError(`'${tid}' is not a TID`);
  let value = 0n;
  for (const ch of tid) value = (value << 5n) | BigInt(ALPHABET.indexOf(ch));
  return { micros: value >> 10n, clockId: Number(value & 1023n) };
}

/**
 * The record key of one post: the time in microseconds (the millisecond of `timeMs`, plus
 * sub-millisecond digits from the key's hash) and a clock id from the hash. Two posts with
 * different keys at the same time get different record keys (one in ~10^6 collides); the
 * same key and time always give the same record key.
 */
export function tidFromKey(key: string, timeMs: number): string {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0) throw new RangeError(`TID time ${timeMs} ms is not a non-negative whole number of milliseconds`);
  const hash = Buffer.from(sha256(key));
  const subMillisecond = hash.readUInt32BE(0) % 1000;
  const clockId = hash.readUInt16BE(4) & 1023;
  return encodeTid(BigInt(timeMs) * 1000n + BigInt(subMillisecond), clockId);
}
