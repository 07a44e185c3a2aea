/**
 * The few error types the action raises. Each carries a message written for the person
 * reading the workflow log: what is wrong, the offending value, and how to fix it.
 */

/** A workflow input is missing or malformed. Raised before anything is sent. */
export class InputError extends Error {
  override readonly name: string = 'InputError';
  constructor(
    readonly input: string,
    message: string,
    /** The annotation's title when the fix is not in the input itself (e.g. a missing checkout). */
    readonly title = `Invalid input '${input}'`,
  ) {
    super(message);
  }
}

/**
 * A problem at a field of a post, before anything is sent: the path of the field in the post
 * model (['scheduledAt'], ['media', 2]) and a message that completes "Input 'x' …" or
 * "file:line: 'x' …" — the value, what was expected, the fix.
 */
export interface FieldProblem {
  path: (string | number)[];
  message: string;
}

/** Where in a post file a problem is; lines and columns are 1-based. */
export interface FilePosition {
  file: string;
  line?: number;
  column?: number;
}

/** A post file is invalid (YAML, schema, template). Raised before anything is sent. */
export class PostFileError extends Error {
  override readonly name: string = 'PostFileError';
  constructor(
    readonly position: FilePosition,
    message: string,
  ) {
    super(message);
  }

  get location(): string {
    const { file, line, column } = this.position;
    return [file, line, line !== undefined ? column : undefined].filter((p) => p !== undefined).join(':');
  }
}

/**
 * Publishing a target failed. `retryable` says whether sending the very same request again
 * may succeed; `outcomeUnknown` says the request may have reached the platform, so the post
 * may exist even though no answer came back.
 */
export class PublishError extends Error {
  override readonly name: string = 'PublishError';
  readonly retryable: boolean;
  readonly outcomeUnknown: boolean;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    opts: { retryable?: boolean; outcomeUnknown?: boolean; code?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryable = opts.retryable ?? false;
    this.outcomeUnknown = opts.outcomeUnknown ?? false;
    this.code = opts.code;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** PublishError code: the platform refused the schedule (too soon or in the past) and replayed nothing. */
export const SCHEDULE_REFUSED = 'schedule_refused';

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/** Quotes a user value for a message, shortened so a long text does not flood the log. */
export function quote(value: string, max = 80): string {
  const oneLine = value.replace(/\n/g, '\\n');
  return `'${oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine}'`;
}
