/**
 * Every secret the action handles is registered here: masked in the runner's log and
 * scrubbed from any text the action itself writes (outputs, summaries, error messages).
 */
const secrets = new Set<string>();
let masker: (value: string) => void = () => {};

/** Where masks go (core.setSecret); set once by main. */
export function setSecretMasker(fn: (value: string) => void): void {
  masker = fn;
}

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4 || secrets.has(value)) return;
  secrets.add(value);
  masker(value);
}

/** Replaces every registered secret in `text` with ***. Longest first, so no fragment survives. */
export function redact(text: string): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}
