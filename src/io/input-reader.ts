/**
 * Reads workflow inputs with one rule each for text, choices, booleans, numbers, URLs and YAML
 * lists, collecting every problem as an InputError that names the input, quotes the value and
 * says what was expected — so one run lists everything to fix.
 */
import { yaml } from './yaml.js';
import { InputError, quote } from '../errors.js';

export type GetInput = (name: string) => string;

export class InputReader {
  readonly errors: InputError[] = [];
  constructor(private readonly get: GetInput) {}

  str(name: string): string | undefined {
    const value = this.get(name).trim();
    return value === '' ? undefined : value;
  }

  /** Text inputs keep their inner whitespace and newlines; only a trailing newline from YAML block scalars goes. */
  text(name: string): string | undefined {
    const value = this.get(name).replace(/\s+$/, '');
    return value.trim() === '' ? undefined : value;
  }

  fail(name: string, message: string): undefined {
    this.errors.push(new InputError(name, `Input '${name}' ${message}`));
    return undefined;
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.str(name);
    if (value === undefined) return fallback;
    if ((choices as readonly string[]).includes(value.toLowerCase())) return value.toLowerCase() as T;
    this.fail(name, `is ${quote(value)}; expected one of ${choices.join(', ')}`);
    return fallback;
  }

  bool(name: string, fallback: boolean): boolean;
  bool(name: string): boolean | undefined;
  bool(name: string, fallback?: boolean): boolean | undefined {
    const value = this.str(name);
    if (value === undefined) return fallback;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    this.fail(name, `is ${quote(value)}; expected true or false`);
    return fallback;
  }

  seconds(name: string, fallback: number, min: number, max: number): number {
    const value = this.str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(name, `is ${quote(value)}; expected a whole number of seconds from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  count(name: string, fallback: number, min: number, max: number): number {
    const value = this.str(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(name, `is ${quote(value)}; expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  url(name: string, fallback?: string): string | undefined {
    const value = this.str(name) ?? fallback;
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || url.protocol === 'http:') return value.replace(/\/+$/, '');
    } catch {
      // reported below
    }
    return this.fail(name, `is ${quote(value)}; expected an http(s) URL such as ${fallback ?? 'https://example.social'}`);
  }

  /** A YAML (or JSON) list input; `example` shows the expected shape in the error. */
  yamlList(name: string, example: string): unknown[] | undefined {
    const value = this.str(name);
    if (value === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = yaml().parse(value, { maxAliasCount: 50 });
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      if (/alias/i.test(reason)) return this.fail(name, `uses YAML aliases (*name) that expand to too much data (more than 50 copies); write the items out instead, as a list such as:\n${example}`);
      return this.fail(name, `is not valid YAML (${reason.replace(/:\s*$/, '')}); expected a list such as:\n${example}`);
    }
    if (parsed === null || parsed === undefined) return undefined;
    if (!Array.isArray(parsed)) return this.fail(name, `must be a YAML list (one '- ' item per entry), for example:\n${example}`);
    return parsed;
  }
}
