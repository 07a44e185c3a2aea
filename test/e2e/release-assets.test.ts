/**
 * Release assets as a post's images, through the bundle on Node 24: found in the release
 * event, downloaded with github-token from the fake GitHub (a redirect to a storage host that
 * refuses any Authorization header, as S3 does), typed from their bytes although served as
 * application/octet-stream, checked per platform before anything is sent, and posted to the
 * real PDS with the asset's label as alt text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRun } from '../support/action.js';
import type { FakeGitHub } from '../support/fake-github.js';
import { png } from '../support/images.js';
import type { SharedPds, TestAccount } from '../support/shared-pds.js';
import { releaseStage, type ReleaseStage } from '../support/release-media.js';
import { fixtures, GITHUB_TOKEN, log, releaseEvent, REPOSITORY } from '../support/scenario.js';

const fx = fixtures();
afterAll(fx.cleanup);

const SCREENSHOT = png(640, 400, { noise: true, seed: 3 });
const HUGE = png(1800, 1800, { noise: true, seed: 4 });
const ASSETS = [
  { id: 7001, name: 'screenshot.png', label: 'The dashboard in dark mode', bytes: SCREENSHOT },
  { id: 7002, name: 'unlabelled.png', label: '', bytes: png(100, 100) },
  { id: 7003, name: 'huge.png', label: 'A very large poster', bytes: HUGE },
  { id: 7004, name: 'notes.txt', label: 'Plain notes', bytes: Buffer.from('not an image\n') },
];

const release = releaseEvent('v3.0.0', 'widgets 3', {
  body: '',
  assets: ASSETS.map((a) => ({ id: a.id, name: a.name, label: a.label, size: a.bytes.length, content_type: 'application/octet-stream', url: `https://api.github.com/repos/${REPOSITORY}/releases/assets/${a.id}` })),
});

let stage: ReleaseStage;
let pds: SharedPds;
let alice: TestAccount;
let gh: FakeGitHub;

beforeAll(async () => {
  stage = await releaseStage(fx, 'assets');
  ({ pds, alice, gh } = stage);
  for (const a of ASSETS) gh.addReleaseAsset(a.id, a.bytes);
});

const announce = (media: string, job: string, event: { name: string; payload: Record<string, unknown> } = release, text?: string): Promise<ActionRun> => stage.announce(event, media, job, text);

describe('release assets as images', () => {
  it("an asset served as octet-stream is posted as the image it is, its label the alt text; the token never leaves the API", async () => {
    const before = gh.storageRequests.length;
    const run = await announce('- releaseAsset: screenshot.png', 'asset');
    expect(run.code, log(run)).toBe(0);
    const record = await pds.getRecord(run.outputs.uri!);
    const [image] = record!.value.embed.images as Array<{ alt: string; image: { mimeType: string; size: number }; aspectRatio?: { width: number; height: number } }>;
    expect(image!.alt).toBe('The dashboard in dark mode');
    expect(image!.image.mimeType).toBe('image/png');
    expect(image!.image.size).toBe(SCREENSHOT.length);
    // The API was asked with the token; the signed storage URL without it.
    const asked = gh.requestsTo(/\/releases\/assets\/7001$/);
    expect(asked.at(-1)!.headers.authorization).toBe(`Bearer ${GITHUB_TOKEN}`);
    const downloads = gh.storageRequests.slice(before);
    expect(downloads).toHaveLength(1);
    expect(downloads[0]!.headers.authorization).toBeUndefined();
    expect(run.stdout).not.toContain('X-Amz-Signature');
  });

  it.each([
    ['an asset too big for the platform', '- releaseAsset: huge.png', /release asset 'huge\.png'.*bytes.*Bluesky/s],
    ['an image asset without a label or alt', '- releaseAsset: unlabelled.png', /release asset 'unlabelled\.png', which has no label to use as alt text; give 'alt' in this media item, or set the asset's label/],
    ['an asset that is not an image or video', '- releaseAsset: notes.txt', /release asset 'notes\.txt', which is not a PNG, JPEG, GIF, WebP image or an MP4\/MOV video \(checked by its content/],
    ['a name the release does not have', '- releaseAsset: banner.png', /'banner\.png', which this release does not have \(its assets: 'screenshot\.png', 'unlabelled\.png', 'huge\.png', 'notes\.txt'\)/],
  ])('%s is refused naming the input, and nothing is posted', async (_name, media, message) => {
    const before = (await pds.listPosts(alice.did)).length;
    const run = await announce(media, 'refused');
    expect(run.code).toBe(1);
    expect(log(run)).toMatch(message);
    expect(log(run)).toMatch(/Input 'media'/);
    expect((await pds.listPosts(alice.did)).length).toBe(before);
  });

  it('an alt given in the item wins over the label, and a glob takes every matching asset in name order', async () => {
    const run = await announce("- releaseAsset: '*shot.png'\n  alt: Dark mode, new charts", 'glob');
    expect(run.code, log(run)).toBe(0);
    const record = await pds.getRecord(run.outputs.uri!);
    expect((record!.value.embed.images as Array<{ alt: string }>).map((i) => i.alt)).toEqual(['Dark mode, new charts']);
  });

  it('outside a release event, a release asset is an error that says where it can be used', async () => {
    const run = await announce('- releaseAsset: screenshot.png', 'dispatch', { name: 'workflow_dispatch', payload: { inputs: {} } }, 'widgets 3 is out');
    expect(run.code).toBe(1);
    expect(log(run)).toMatch(/this run's event has no release; release assets can be posted from a 'release' workflow/);
  });

  it('a workflow_dispatch run on a release tag re-announces that release: its placeholders and assets read with the GitHub API', async () => {
    // The stage's runs are on refs/tags/v1.0.0; until now that tag had no release (the test above).
    gh.addRelease({ ...(release.payload.release as Record<string, unknown>), tag_name: 'v1.0.0', name: 'widgets 1.0' });
    const run = await announce('- releaseAsset: screenshot.png', 'reannounce', { name: 'workflow_dispatch', payload: { inputs: {} } }, '{{ release.name }}, once more: {{ release.tag_name }}');
    expect(run.code, log(run)).toBe(0);
    expect(run.stdout).toMatch(/This run is on the tag v1\.0\.0: its release is read with the GitHub API/);
    const record = await pds.getRecord(run.outputs.uri!);
    expect(record!.value.text).toBe('widgets 1.0, once more: v1.0.0');
    expect((record!.value.embed.images as Array<{ alt: string }>).map((i) => i.alt)).toEqual(['The dashboard in dark mode']);
    expect(gh.requestsTo(/\/releases\/tags\/v1\.0\.0$/).every((r) => r.headers.authorization === `Bearer ${GITHUB_TOKEN}`)).toBe(true);
  });
});
