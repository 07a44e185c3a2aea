/**
 * Schema issues in the words post files and inputs use: one translator for both sources.
 * `describeIssue` completes a sentence whose subject the source names — "Input 'media'
 * (item 2, 'alt')" or "'media[1].alt'" (a post file, at its line) — with the value, what was
 * expected and the fix. `joinIssue` puts the two together.
 */
import type * as z from 'zod';
import { quote } from '../errors.js';
import { postSchema } from '../model/post.js';
import { closest } from './templates.js';

type Path = ReadonlyArray<PropertyKey>;
type AnySchema = { _zod: { def: Record<string, unknown> & { type: string } } };

/** `['targets', 1, 'platform']` → `targets[1].platform`. */
export function fieldName(path: Path): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc === '' ? String(seg) : `${acc}.${String(seg)}`), '');
}

/** The field names the schema knows at a path (for "did you mean"). */
export function knownFields(path: Path): string[] {
  let schema = postSchema as unknown as AnySchema;
  const unwrap = () => {
    for (let i = 0; i < 10; i++) {
      const def = schema._zod.def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'readonly' || def.type === 'catch') schema = def.innerType as AnySchema;
      else if (def.type === 'pipe') schema = def.in as AnySchema;
      else return;
    }
  };
  unwrap();
  for (const seg of path) {
    const def = schema._zod.def;
    if (typeof seg === 'number' && def.type === 'array') schema = def.element as AnySchema;
    else if (typeof seg === 'string' && def.type === 'object') {
      const next = (def.shape as Record<string, AnySchema>)[seg];
      if (!next) return [];
      schema = next;
    } else return [];
    unwrap();
  }
  return schema._zod.def.type === 'object' ? Object.keys(schema._zod.def.shape as object) : [];
}

export function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** A value for a message: quoted text, or what kind of thing it is. */
function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return `${value} (a number)`;
  if (typeof value === 'boolean') return `${value} (true/false)`;
  if (value === null) return 'empty';
  return Array.isArray(value) ? 'a list' : 'a mapping';
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'text',
  array: "a list (one '- ' item per entry)",
  object: 'a mapping of fields (key: value), e.g. platform: bluesky',
  boolean: 'true or false',
  number: 'a number',
};

/** What to write when a required field is missing. */
const MISSING_HINTS: Readonly<Record<string, string>> = {
  targets: 'add where to post, e.g.\ntargets:\n  - platform: bluesky\n    account: bluesky',
  platform: 'add the platform, e.g. platform: bluesky',
  account: "add the letmepost account id (a uuid), or 'bluesky' / 'mastodon' / 'x' for a direct publisher",
  boardId: 'add the Pinterest board id',
  replyToId: 'add the id of the Threads post to reply to',
};

/** What an object at a path is called, for "which is not a field of …". */
function whatIsAt(path: Path): string {
  const last = path[path.length - 1];
  const parent = typeof last === 'number' ? path[path.length - 2] : last;
  if (parent === undefined) return 'a post';
  if (parent === 'media') return 'a media item';
  if (parent === 'targets') return 'a target';
  return `'${fieldName(path)}'`;
}

/** "did you mean 'x'?" for a near miss, else the list of fields there are. */
function fixForUnknownKey(path: Path, key: string): string {
  const known = knownFields(path);
  const suggestion = closest(key, known);
  return suggestion !== undefined ? `did you mean '${suggestion}'?` : `the fields are: ${known.join(', ')}`;
}

/** Completes "<subject> …" for a field the schema does not know (an input names the subject). */
export function describeUnknownKey(path: Path, key: string): string {
  return `has '${key}', which is not a field of ${whatIsAt(path)}; ${fixForUnknownKey(path, key)}`;
}

/**
 * The whole sentence for a field the schema does not know, where the key is the subject: a post
 * file points at the key's own line, so the message starts with it.
 */
export function unknownKeySentence(path: Path, key: string): string {
  const where = path.length > 0 ? ` of ${fieldName(path)}` : '';
  return `'${key}' is not a field${where}; ${fixForUnknownKey(path, key)}`;
}

/**
 * Completes "<subject> …" for one schema issue (not unrecognized keys: describeUnknownKey).
 * `root` is the data the schema read, for the offending value.
 */
export function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const path = issue.path as Path;
  const value = valueAt(root, path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (value === undefined) return `is missing; ${MISSING_HINTS[String(path[path.length - 1])] ?? `expected ${expected}`}`;
      const quoteHint = issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean') ? ` — put it in quotes: '${String(value)}'` : '';
      return `is ${show(value)}; expected ${expected}${quoteHint}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `is an empty list; add at least ${String(issue.minimum)} item${Number(issue.minimum) > 1 ? 's' : ''}`;
      if (issue.origin === 'string') return 'is empty; give a value';
      return `is ${show(value)}; ${issue.message}`;
    case 'invalid_value':
      return `is ${show(value)}; expected one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'url') return `is ${show(value)}; expected an http(s) URL such as https://example.com/image.png`;
      return `is ${show(value)}; expected ${issue.message}`;
    case 'unrecognized_keys':
      return issue.keys.map((key) => describeUnknownKey(path, key)).join('; ');
    default: {
      const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      return scalar && !issue.message.includes(`'${String(value)}'`) ? `is ${show(value)}; ${issue.message}` : issue.message;
    }
  }
}

/** "<subject> is …" / "<subject>: <a sentence of its own>". */
export function joinIssue(subject: string, completion: string): string {
  return /^(is|has) /.test(completion) ? `${subject} ${completion}` : `${subject}: ${completion}`;
}
