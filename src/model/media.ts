/**
 * Media files: resolved inside the workspace (no `..`, no symlink escape), typed from their
 * first bytes rather than their names, and measured before anything is uploaded.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export type MediaKind = 'image' | 'video';

export interface ResolvedMedia {
  kind: MediaKind;
  alt?: string;
  /** Absolute real path of a local file. */
  path?: string;
  /** The path as the user wrote it, for messages. */
  displayPath?: string;
  url?: string;
  size?: number;
  mimeType?: string;
  width?: number;
  height?: number;
}

/** Enough of the header to recognise the format and read image dimensions. */
const HEADER_BYTES = 64 * 1024;

/** Identifies a media file from its first bytes. */
export function sniffMimeType(head: Uint8Array): string | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a')) return 'image/gif';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp') {
    const brand = b.toString('latin1', 8, 12);
    return brand === 'qt  ' ? 'video/quicktime' : 'video/mp4';
  }
  return undefined;
}

export function mediaKindOf(mimeType: string): MediaKind {
  return mimeType.startsWith('video/') ? 'video' : 'image';
}

/** Width and height from a PNG, JPEG, GIF or WebP header; undefined when not found. */
export function imageDimensions(head: Uint8Array): { width: number; height: number } | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const type = sniffMimeType(b);
  if (type === 'image/png' && b.length >= 24) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (type === 'image/gif' && b.length >= 10) return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (type === 'image/webp' && b.length >= 30) {
    const chunk = b.toString('latin1', 12, 16);
    if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8X') return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
    return undefined;
  }
  if (type === 'image/jpeg') {
    let offset = 2;
    while (offset + 9 < b.length) {
      if (b[offset] !== 0xff) return undefined;
      const marker = b[offset + 1]!;
      if (marker === 0xff) {
        offset++;
        continue;
      }
      const length = b.readUInt16BE(offset + 2);
      // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: b.readUInt16BE(offset + 5), width: b.readUInt16BE(offset + 7) };
      }
      offset += 2 + length;
    }
  }
  return undefined;
}

export class MediaPathError extends Error {
  override readonly name: string = 'MediaPathError';
}

/**
 * Resolves a media path written by the user (relative to `baseDir`) to a real file inside
 * `workspace`, and reads its type, size and dimensions. Throws MediaPathError with a
 * message that says what is wrong and how to fix it.
 */
export async function resolveLocalMedia(
  userPath: string,
  baseDir: string,
  workspace: string,
  opts: { alt?: string; kind?: MediaKind } = {},
): Promise<ResolvedMedia> {
  if (isAbsolute(userPath)) {
    throw new MediaPathError(`'${userPath}' is an absolute path; give a path relative to the repository (e.g. assets/banner.png)`);
  }
  const workspaceReal = await realpath(workspace);
  const candidate = resolve(baseDir, userPath);
  const inside = (p: string, root: string) => p === root || p.startsWith(root + sep);
  if (!inside(candidate, resolve(workspace)) && !inside(candidate, workspaceReal)) {
    throw new MediaPathError(`'${userPath}' points outside the workspace; media must be files in the repository`);
  }
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new MediaPathError(`'${userPath}' does not exist (looked for ${relative(workspace, candidate) || candidate}); check the path and that the file is committed and checked out`);
  }
  if (!inside(real, workspaceReal)) {
    throw new MediaPathError(`'${userPath}' is a symlink that leads outside the workspace; media must be files in the repository`);
  }
  const info = await stat(real);
  if (!info.isFile()) throw new MediaPathError(`'${userPath}' is not a regular file`);

  const handle = await open(real, 'r');
  let head: Uint8Array;
  try {
    const buffer = Buffer.alloc(Math.min(HEADER_BYTES, info.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const mimeType = sniffMimeType(head);
  if (mimeType === undefined) {
    throw new MediaPathError(`'${userPath}' is not a PNG, JPEG, GIF, WebP image or an MP4/MOV video (checked by its content, not its name); point 'path' at the image or video itself, or convert the file`);
  }
  const kind = mediaKindOf(mimeType);
  if (opts.kind !== undefined && opts.kind !== kind) {
    throw new MediaPathError(`'${userPath}' is declared kind '${opts.kind}' but its content is ${mimeType}; fix or remove 'kind'`);
  }
  const dims = kind === 'image' ? imageDimensions(head) : undefined;
  return {
    kind,
    ...(opts.alt !== undefined ? { alt: opts.alt } : {}),
    path: real,
    displayPath: userPath,
    size: info.size,
    mimeType,
    ...(dims ?? {}),
  };
}

/** A remote media item: passed through by URL; its kind is declared or guessed from the name. */
export function remoteMedia(url: string, opts: { alt?: string; kind?: MediaKind } = {}): ResolvedMedia {
  const kind = opts.kind ?? (/\.(mp4|mov|m4v|webm)(\?|#|$)/i.test(url) ? 'video' : 'image');
  return { kind, url, ...(opts.alt !== undefined ? { alt: opts.alt } : {}) };
}
