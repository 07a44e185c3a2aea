/**
 * `POST /api/v1/statuses` under an Idempotency-Key, and what comes back: the status (or the
 * scheduled status) read into an Answer, with its text and media ids, so that the publisher
 * can tell whether Mastodon posted it now or replayed one an earlier run posted under the key.
 */
import { PublishError } from '../../errors.js';
import { compact, isObject, parseJson, str, type Json } from '../../io/json.js';
import { redact } from '../../secrets.js';
import { serverMessage, type MastodonClient } from './client.js';

/** A status as Mastodon returns it, or the scheduled status it returns for `scheduled_at`. */
export interface Answer {
  id: string;
  scheduled: boolean;
  createdAt?: number;
  scheduledAt?: string;
  uri?: string;
  url?: string;
  /** The status's text as Mastodon renders it (HTML). */
  content?: string;
  mediaIds: string[];
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The plain text of a status's rendered content: paragraphs and line breaks kept, tags dropped. */
export function statusText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) =>
      name[0] === '#' ? String.fromCodePoint(name[1]?.toLowerCase() === 'x' ? parseInt(name.slice(2), 16) : Number(name.slice(1))) : (ENTITIES[name.toLowerCase()] ?? whole),
    );
}

/** Whether two texts are the same post, as Mastodon renders it (whitespace may differ). */
export function sameText(a: string, b: string): boolean {
  const norm = (t: string) => t.replace(/\s+/g, ' ').trim();
  return norm(a) === norm(b);
}

/** Whether the status carries exactly the media ids this run sent, in order: otherwise an earlier run posted it. */
export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** A scheduled status holds its raw text: escaped, it reads back through statusText like rendered content. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function readAnswer(parsed: Json): Answer | undefined {
  const id = str(parsed.id);
  if (!id) return undefined;
  if (isObject(parsed.params) && str(parsed.scheduled_at)) {
    const ids = Array.isArray(parsed.params.media_ids) ? parsed.params.media_ids.map(String) : [];
    const text = str(parsed.params.text);
    return { id, scheduled: true, scheduledAt: str(parsed.scheduled_at), ...(text !== undefined ? { content: escapeHtml(text) } : {}), mediaIds: ids };
  }
  const created = Date.parse(str(parsed.created_at) ?? '');
  const attachments = Array.isArray(parsed.media_attachments) ? parsed.media_attachments.filter(isObject) : [];
  return compact({
    id,
    scheduled: false,
    createdAt: Number.isNaN(created) ? undefined : created,
    uri: str(parsed.uri),
    url: str(parsed.url),
    content: str(parsed.content),
    mediaIds: attachments.map((a) => String(a.id)),
  }) as Answer;
}

/** Posts one status (or schedules it) under its key, retrying with the same key and bytes. */
export async function postStatus(client: MastodonClient, what: string, key: string, body: string, scheduled: boolean): Promise<Answer> {
  client.log.info(`${what}: POST /api/v1/statuses, idempotency key ${key}`);
  return client.retrying(what, async () => {
    const response = await client.request(what, 'POST', '/api/v1/statuses', { headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key }, body });
    if (response.status === 200) {
      const parsed = parseJson(response.body);
      const answer = isObject(parsed) ? readAnswer(parsed) : undefined;
      // The same key brings the same status back: asking again is safe.
      if (answer) return answer;
      throw new PublishError(`${what}: ${client.host} answered HTTP 200 without a status`, { retryable: true, outcomeUnknown: true, code: 'failed' });
    }
    if (response.status === 404) {
      const said = serverMessage(response.body) ?? 'Record not found';
      throw new PublishError(
        redact(
          scheduled
            ? `${what}: ${client.host} answered HTTP 404 (${said}) for key ${key}: the post scheduled under this key is no longer a scheduled status, most likely because it was published at its time; check the account. Nothing was posted now`
            : `${what}: ${client.host} answered HTTP 404 (${said}) for key ${key}: the status posted earlier under this key, or the status this one replies to, has been deleted. Nothing was posted now`,
        ),
        { code: 'not_found', outcomeUnknown: scheduled },
      );
    }
    throw client.failure(what, response);
  });
}
