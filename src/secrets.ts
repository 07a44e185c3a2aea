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

/**
 * The forms a secret takes on its way into text: as is, percent-encoded (a URL, a form),
 * base64 (an Authorization header, a JWT part), JSON-escaped (an echoed request), and each of
 * its lines (a multi-line secret printed across lines).
 */
function forms(value: string): string[] {
  const out = new Set([value, encodeURIComponent(value), Buffer.from(value, 'utf8').toString('base64'), Buffer.from(value, 'utf8').toString('base64url'), JSON.stringify(value).slice(1, -1)]);
  // Base64 without its padding, as embedded in longer base64 text.
  out.add(Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, ''));
  for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) out.add(line.trim());
  return [...out].filter((f) => f.length >= 4);
}

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4 || secrets.has(value)) return;
  for (const form of forms(value)) {
    if (secrets.has(form)) continue;
    secrets.add(form);
    masker(form);
  }
}

/** Replaces every registered secret (in every form) in `text` with ***. Longest first, so no fragment survives. */
export function redact(text: string): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}

/** Shortens text for a message without ever cutting a secret in half: scrubbed first, then cut. */
export function clip(text: string, max: number): string {
  const scrubbed = redact(text);
  return scrubbed.length > max ? `${scrubbed.slice(0, max - 1)}…` : scrubbed;
}
