import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageDimensions, resolveLocalMedia, sniffMimeType } from '../../src/model/media.js';
import { gifHeader, jpegHeader, png, webpVp8xHeader } from '../support/images.js';

describe('media type and size from the file header', () => {
  it.each([
    ['PNG', png(640, 360), 'image/png', { width: 640, height: 360 }],
    ['JPEG', jpegHeader(1200, 800), 'image/jpeg', { width: 1200, height: 800 }],
    ['GIF', gifHeader(300, 200), 'image/gif', { width: 300, height: 200 }],
    ['WebP (VP8X)', webpVp8xHeader(1920, 1080), 'image/webp', { width: 1920, height: 1080 }],
  ])('%s: type and dimensions are read from the bytes', (_, bytes, type, dims) => {
    expect(sniffMimeType(bytes)).toBe(type);
    expect(imageDimensions(bytes)).toEqual(dims);
  });

  it('an MP4 is recognised as video', () => {
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom', 'latin1'), Buffer.alloc(16)]);
    expect(sniffMimeType(mp4)).toBe('video/mp4');
  });

  it('a text file named .png is not an image', () => {
    expect(sniffMimeType(Buffer.from('hello world, not an image'))).toBeUndefined();
  });
});

describe('media paths are confined to the workspace', () => {
  const root = mkdtempSync(join(tmpdir(), 'lmpa-media-'));
  const workspace = join(root, 'ws');
  mkdirSync(join(workspace, 'assets'), { recursive: true });
  writeFileSync(join(workspace, 'assets', 'a.png'), png(4, 3));
  writeFileSync(join(root, 'secret.png'), png(4, 3));
  writeFileSync(join(workspace, 'notes.png'), 'not an image');
  symlinkSync(join(root, 'secret.png'), join(workspace, 'assets', 'escape.png'));
  symlinkSync(join(workspace, 'assets', 'a.png'), join(workspace, 'inside-link.png'));

  it('a file in the workspace resolves with its type, size and dimensions', async () => {
    const m = await resolveLocalMedia('assets/a.png', workspace, workspace, { alt: 'A' });
    expect(m).toMatchObject({ kind: 'image', mimeType: 'image/png', width: 4, height: 3, alt: 'A', displayPath: 'assets/a.png' });
  });

  it('a symlink that stays inside the workspace is fine', async () => {
    await expect(resolveLocalMedia('inside-link.png', workspace, workspace)).resolves.toMatchObject({ kind: 'image' });
  });

  it.each([
    ['a path climbing out with ..', '../secret.png', /outside the workspace/],
    ['a symlink escaping the workspace', 'assets/escape.png', /symlink that leads outside the workspace/],
    ['an absolute path', '/etc/passwd', /absolute path/],
    ['a missing file', 'assets/missing.png', /does not exist/],
    ['a file that is not an image or video', 'notes.png', /not a PNG, JPEG, GIF, WebP image or an MP4\/MOV video/],
    ['a directory', 'assets', /not a regular file/],
  ])('%s is refused', async (_, path, message) => {
    await expect(resolveLocalMedia(path, workspace, workspace)).rejects.toThrow(message);
  });

  it('a declared kind that contradicts the content is refused', async () => {
    await expect(resolveLocalMedia('assets/a.png', workspace, workspace, { kind: 'video' })).rejects.toThrow(/declared kind 'video'/);
  });
});
