/**
 * Release assets as a post's media (`releaseAsset: screenshot.png`, or a glob): found in the
 * release event's own asset list, downloaded with `github-token` into the runner's temporary
 * directory, and from then on a local file like any other. GitHub serves every asset as
 * `application/octet-stream`, so the type comes from the bytes (model/media.ts), and the
 * size, type and dimensions are known before any upload — preflight checks them per platform.
 * Alt text is the item's `alt`, else the asset's label; an image without either is refused.
 */
import { mkdir } from 'node:fs/promises';
import { MediaPathError, type MediaKind, type ResolvedMedia } from '../model/media.js';
import { safeFileName, storeFetchedMedia, type DownloadContext } from './fetched-media.js';

export interface ReleaseAssetInfo {
  id: number;
  name: string;
  label?: string;
  size?: number;
}

/** Downloads a release asset's bytes (at most `maxBytes`): the GitHub API behind `github-token`. */
export type AssetDownloader = (id: number, maxBytes: number) => Promise<Buffer>;

export interface ReleaseAssetOptions extends DownloadContext {
  download: AssetDownloader;
  alt?: string;
  kind?: MediaKind;
}

/** The assets of the release in the payload; undefined when the event has no release. */
function releaseAssetsOf(payload: Record<string, unknown>): ReleaseAssetInfo[] | undefined {
  const release = payload.release as { assets?: unknown } | undefined;
  if (release === undefined || release === null || typeof release !== 'object') return undefined;
  const assets = Array.isArray(release.assets) ? release.assets : [];
  return assets.flatMap((a): ReleaseAssetInfo[] => {
    const asset = a as { id?: unknown; name?: unknown; label?: unknown; size?: unknown };
    if (typeof asset.id !== 'number' || typeof asset.name !== 'string') return [];
    return [{ id: asset.id, name: asset.name, ...(typeof asset.label === 'string' && asset.label.trim() !== '' ? { label: asset.label.trim() } : {}), ...(typeof asset.size === 'number' ? { size: asset.size } : {}) }];
  });
}

/** An asset-name glob (`*` and `?`; names have no '/') as a whole-name pattern. */
function namePattern(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The media items one `releaseAsset` names, downloaded and typed; MediaPathError says what is wrong. */
export async function resolveReleaseAssets(pattern: string, opts: ReleaseAssetOptions): Promise<ResolvedMedia[]> {
  const assets = releaseAssetsOf(opts.payload);
  if (assets === undefined) {
    // A post file previewed in a pull request is published by a release run; say what it will use.
    if (opts.provisional) return [{ kind: opts.kind ?? (/\.(mp4|mov|m4v)$/i.test(pattern) ? 'video' : 'image'), displayPath: `release asset ${pattern} (downloaded when a release publishes it)`, ...(opts.alt !== undefined ? { alt: opts.alt } : {}) }];
    throw new MediaPathError(`names the release asset '${pattern}', but this run's event has no release; release assets can be posted from a 'release' workflow (on: release: types: [published]) only — use 'path' for a file in the repository`);
  }
  const matched = assets.filter((a) => namePattern(pattern).test(a.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (matched.length === 0) {
    const names = assets.map((a) => `'${a.name}'`).join(', ');
    throw new MediaPathError(`names the release asset '${pattern}', which this release does not have (${names ? `its assets: ${names}` : 'it has no assets'}); upload it to the release, or fix the name`);
  }
  await mkdir(opts.tempDir, { recursive: true });
  return Promise.all(matched.map((asset) => downloaded(asset, opts)));
}

async function downloaded(asset: ReleaseAssetInfo, opts: ReleaseAssetOptions): Promise<ResolvedMedia> {
  const name = `release asset '${asset.name}'`;
  if (asset.size !== undefined && asset.size > opts.maxBytes) {
    throw new MediaPathError(`names the ${name}, which is ${asset.size.toLocaleString('en-US')} bytes: more than any of this post's platforms takes (${opts.maxBytes.toLocaleString('en-US')} bytes); attach a smaller file`);
  }
  let bytes: Buffer;
  try {
    bytes = await opts.download(asset.id, opts.maxBytes);
  } catch (error) {
    throw new MediaPathError(`names the ${name}, which could not be downloaded: ${error instanceof Error ? error.message : String(error)}. The job needs 'permissions: contents: read' and 'github-token' at its default`);
  }
  // The asset id keeps names apart; the name is reduced to safe characters (it came from the release).
  return storeFetchedMedia(bytes, {
    name,
    subject: `names the ${name}`,
    fileName: safeFileName(String(asset.id), asset.name),
    tempDir: opts.tempDir,
    source: 'GitHub serves every asset as application/octet-stream',
    ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
    ...((opts.alt ?? asset.label) !== undefined ? { alt: (opts.alt ?? asset.label)! } : {}),
    noAlt: "which has no label to use as alt text; give 'alt' in this media item, or set the asset's label on the release page",
  });
}
