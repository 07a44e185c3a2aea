/**
 * The `files` input: globs over repository-relative paths (`**`, `*`, `?`, `[abc]`, `{a,b}`,
 * `!exclude`), refused when they would leave the workspace.
 */
import { InputError, quote } from '../errors.js';
import type { PostFileGlobs } from './readers.js';


/** `a/{b,c}/d` → `a/b/d`, `a/c/d` (nested groups too); a group without a comma stays literal. */
export function expandBraces(pattern: string, limit = 256): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const inner = pattern.slice(start + 1, i);
      const parts: string[] = [];
      let d = 0;
      let from = 0;
      for (let j = 0; j < inner.length; j++) {
        if (inner[j] === '{') d++;
        else if (inner[j] === '}') d--;
        else if (inner[j] === ',' && d === 0) {
          parts.push(inner.slice(from, j));
          from = j + 1;
        }
      }
      parts.push(inner.slice(from));
      if (parts.length < 2) continue;
      const before = pattern.slice(0, start);
      const after = pattern.slice(i + 1);
      const out: string[] = [];
      for (const part of parts) {
        for (const expanded of expandBraces(before + part + after, limit)) {
          if (out.length >= limit) return out;
          out.push(expanded);
        }
      }
      return out;
    }
  }
  return [pattern];
}

function segmentSource(segment: string): string {
  let re = /^[*?[]/.test(segment) ? '(?!\\.)' : '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') {
      re += '[^/]*';
      while (segment[i + 1] === '*') i++;
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[' && segment.indexOf(']', i + 2) > 0) {
      const end = segment.indexOf(']', i + 2);
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return re;
}

/**
 * A glob (no braces) as a RegExp over repository-relative paths: `**` spans directories,
 * `*` and `?` stay within one, `[abc]` is a class. Wildcards never match a leading dot.
 */
export function globToRegExp(glob: string): RegExp {
  const segments = glob.split('/');
  let re = '^';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') re += last ? '(?:(?!\\.)[^/]+(?:/|$))*' : '(?:(?!\\.)[^/]+/)*';
    else re += segmentSource(segment) + (last ? '' : '/');
  });
  return new RegExp(`${re}$`);
}

/** Compiles the `files` input; patterns that leave the workspace are InputErrors. */
export function compileGlobs(patterns: readonly string[]): { globs: PostFileGlobs; errors: InputError[] } {
  const errors: InputError[] = [];
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  const roots = new Set<string>();
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).trim().replace(/^(\.\/)+/, '');
    if (pattern === '') continue;
    if (pattern.startsWith('/') || /^[A-Za-z]:/.test(pattern) || pattern.includes('\\') || pattern.split('/').includes('..')) {
      errors.push(new InputError('files', `Input 'files' has ${quote(raw)}; patterns are relative to the repository and stay inside it (no leading '/', no '..', '/' as separator), e.g. posts/**/*.yml`));
      continue;
    }
    for (const glob of expandBraces(pattern)) {
      (negated ? exclude : include).push(globToRegExp(glob));
      if (!negated) {
        const literal: string[] = [];
        for (const segment of glob.split('/').slice(0, -1)) {
          if (/[*?[{]/.test(segment)) break;
          literal.push(segment);
        }
        roots.add(literal.join('/'));
      }
    }
  }
  const matches = (path: string) => include.some((r) => r.test(path)) && !exclude.some((r) => r.test(path));
  // Walk each root once: drop roots inside another root.
  const sorted = [...roots].sort((a, b) => a.length - b.length);
  const minimal = sorted.filter((r, i) => !sorted.slice(0, i).some((o) => o === '' || r === o || r.startsWith(`${o}/`)));
  return { globs: { matches, roots: minimal }, errors };
}

