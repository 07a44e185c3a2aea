/**
 * The images of the release notes (or of a pull request's description) as a post's media,
 * opt-in with `notesImages`: the screenshots a maintainer pasted (GitHub's `user-attachments`)
 * or linked from the repository — never a badge or a picture from elsewhere, which the notes
 * show but the announcement should not carry. Each is downloaded before anything is sent,
 * typed from its bytes and checked per platform like a file of the repository; its alt text
 * is its own (`![what it shows](…)`, `<img alt="…">`): without one, it is refused.
 */
import { mkdir } from 'node:fs/promises';
import { fetchLimited, LimitedFetchError } from '../io/fetch-limited.js';
import { MediaPathError, type ResolvedMedia } from '../model/media.js';
import { safeFileName, storeFetchedMedia, type DownloadContext } from './fetched-media.js';

/** Downloads a public image (at most `maxBytes`), without any credential. */
export type ImageDownloader = (url: string, maxBytes: number) => Promise<Buffer>;

export interface NotesImagesOptions extends DownloadContext {
  /** This GitHub (`GITHUB_SERVER_URL`) and repository (`owner/name`): whose images are taken. */
  serverUrl: string;
  repository: string;
  download: ImageDownloader;
  /** At most this many images, in the order of the notes. */
  limit: number;
}

/**
 * The notes of the event: the release's, else — publishing a merged pull request — its
 * description. A preview is of a pull request whose description is not the notes the post
 * will carry (and may come from a fork): it shows a placeholder instead.
 */
function notesOf(payload: Record<string, unknown>, provisional: boolean): { text: string; what: string } | undefined {
  const release = payload.release as { body?: unknown } | undefined;
  if (release && typeof release === 'object') return { text: typeof release.body === 'string' ? release.body : '', what: 'release notes' };
  const pull = payload.pull_request as { body?: unknown } | undefined;
  if (!provisional && pull && typeof pull === 'object') return { text: typeof pull.body === 'string' ? pull.body : '', what: "pull request's description" };
  return undefined;
}

/**
 * The URL to download an image of the notes from, when it is GitHub's own: an attachment
 * (`/user-attachments/assets/…`, the older `/<repo>/assets/…` and user-images host), or a file
 * of this repository (`/<repo>/raw/…`, `/<repo>/blob/…?raw=true`, raw.githubusercontent.com).
 * Undefined for anything else.
 */
export function githubImageUrl(raw: string, serverUrl: string, repository: string): string | undefined {
  let url: URL;
  let server: URL;
  try {
    url = new URL(raw);
    server = new URL(serverUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== server.protocol || url.username || url.password) return undefined;
  const repo = `/${repository.toLowerCase()}/`;
  const path = url.pathname;
  if (url.host === server.host) {
    if (path.startsWith('/user-attachments/assets/')) return url.href;
    const lower = path.toLowerCase();
    if (!lower.startsWith(repo)) return undefined;
    const rest = path.slice(repo.length);
    if (rest.startsWith('assets/') || rest.startsWith('raw/')) return url.href;
    if (rest.startsWith('blob/') && url.searchParams.get('raw') === 'true') return `${url.origin}${path.slice(0, repo.length)}raw/${rest.slice('blob/'.length)}`;
    return undefined;
  }
  if (server.host !== 'github.com') return undefined;
  if (url.host === 'user-images.githubusercontent.com') return url.href;
  if (url.host === 'raw.githubusercontent.com' && path.toLowerCase().startsWith(repo)) return url.href;
  return undefined;
}

/** Alt text that describes nothing: none, what GitHub writes for a pasted image, a screenshot's or a file's name. */
const NO_DESCRIPTION = /^(?:|image|img|picture|photo|screenshot|screen shot)$|^(?:screen ?shot|bildschirmfoto|capture d.écran)\b.*\d|\.(?:png|jpe?g|gif|webp|avif)$/i;

/** The images `notesImages` names, downloaded and typed; MediaPathError says what is wrong. */
export async function resolveNotesImages(opts: NotesImagesOptions): Promise<ResolvedMedia[]> {
  const notes = notesOf(opts.payload, opts.provisional);
  if (notes === undefined) {
    if (opts.provisional) return [{ kind: 'image', displayPath: 'the images of the notes (downloaded when the release or merged pull request publishes it)' }];
    throw new MediaPathError("asks for the images of the notes (notesImages), but this run's event has no release and no pull request; use it in a 'release' workflow (on: release: types: [published]) or one for merged pull requests");
  }
  const { markdownImages } = await import('../text/markdown.js');
  const seen = new Set<string>();
  const images = markdownImages(notes.text).flatMap((image) => {
    const url = githubImageUrl(image.url, opts.serverUrl, opts.repository);
    if (url === undefined || seen.has(url)) return [];
    seen.add(url);
    return [{ url, alt: image.alt.trim() }];
  });
  const taken = images.slice(0, opts.limit);
  for (const [i, image] of taken.entries()) {
    if (NO_DESCRIPTION.test(image.alt)) {
      const said = image.alt === '' ? 'which has no alt text' : `whose alt text '${image.alt}' describes nothing (GitHub writes that for a pasted image)`;
      throw new MediaPathError(`takes image ${i + 1} of the ${notes.what} (${image.url}), ${said}; describe it in the notes — ![what it shows](…) or <img alt="what it shows" …> — or leave notesImages out`);
    }
  }
  if (taken.length > 0) await mkdir(opts.tempDir, { recursive: true });
  return Promise.all(taken.map((image, i) => downloaded(image, i, notes.what, opts)));
}

async function downloaded(image: { url: string; alt: string }, index: number, what: string, opts: NotesImagesOptions): Promise<ResolvedMedia> {
  const name = `image ${index + 1} of the ${what}`;
  let bytes: Buffer;
  try {
    bytes = await opts.download(image.url, opts.maxBytes);
  } catch (error) {
    // Never the error's own message: after a redirect it names the signed storage URL.
    const status = error instanceof LimitedFetchError && error.reason === 'status' ? /answered HTTP (\d{3})/.exec(error.message)?.[1] : undefined;
    const reason =
      error instanceof LimitedFetchError && error.reason === 'too-big'
        ? `it is larger than any of this post's platforms takes (${opts.maxBytes.toLocaleString('en-US')} bytes)`
        : status !== undefined
          ? `the server answered HTTP ${status}`
          : `the download failed (${error instanceof LimitedFetchError ? error.reason : 'network'})`;
    throw new MediaPathError(`takes the ${name} (${image.url}), which could not be downloaded: ${reason}. A workflow fetches images without signing in, so those of a private repository cannot be fetched: attach the image to the release and use releaseAsset`);
  }
  const file = new URL(image.url).pathname.split('/').pop() ?? 'image';
  return storeFetchedMedia(bytes, { name: `${name} (${image.url})`, subject: `takes the ${name} (${image.url})`, fileName: safeFileName(`notes-${index + 1}`, file), tempDir: opts.tempDir, source: 'what a URL says is not trusted', alt: image.alt, noAlt: 'which has no alt text' });
}

/** Downloads a public image by URL, redirects followed (an attachment redirects to a signed storage URL, never shown). */
export function downloadPublicImage(timeoutMs: number): ImageDownloader {
  return async (url, maxBytes) => (await fetchLimited(url, { timeoutMs, maxBytes, overflow: 'error', maxRedirects: 5, accept: 'image/*' })).bytes;
}
