/**
 * The images of the release notes as a post's images (`notesImages`), through the bundle on
 * Node 24: a pasted screenshot (an attachment that redirects to a signed storage URL, as
 * github.com's do) and a file of the repository are downloaded without any credential, typed
 * from their bytes and posted to the real PDS with their own alt text; badges and pictures
 * from elsewhere are left in the notes; an image without a description is refused before
 * anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRun } from '../support/action.js';
import type { FakeGitHub } from '../support/fake-github.js';
import { png } from '../support/images.js';
import type { SharedPds, TestAccount } from '../support/shared-pds.js';
import { releaseStage, type ReleaseStage } from '../support/release-media.js';
import { fixtures, log, releaseEvent, REPOSITORY } from '../support/scenario.js';

const fx = fixtures();
afterAll(fx.cleanup);

const DASHBOARD = png(800, 500, { seed: 11 });
const SETTINGS = png(400, 300, { seed: 12 });

let stage: ReleaseStage;
let pds: SharedPds;
let alice: TestAccount;
let gh: FakeGitHub;

beforeAll(async () => {
  stage = await releaseStage(fx, 'notesimages');
  ({ pds, alice, gh } = stage);
  gh.addWebFile('/user-attachments/assets/5d1c0e2a-0000-4000-8000-000000000001', DASHBOARD);
  gh.addWebFile(`/${REPOSITORY}/raw/main/docs/settings.png`, SETTINGS);
  gh.addWebFile('/user-attachments/assets/5d1c0e2a-0000-4000-8000-000000000002', png(64, 64));
});

const announce = (body: string, media: string, job: string): Promise<ActionRun> => stage.announce(releaseEvent('v4.0.0', 'widgets 4', { body, assets: [] }), media, job);

describe('the images of the release notes', () => {
  it('pasted screenshots and repository files are posted in order with their own alt text; badges are not; no credential goes along', async () => {
    const body = [
      '## Highlights',
      `[![CI](${gh.url}/${REPOSITORY}/actions/workflows/ci.yml/badge.svg)](${gh.url}/${REPOSITORY}/actions) ![npm](https://img.shields.io/npm/v/widgets)`,
      `The new dashboard:\n\n<img width="800" alt="The dashboard in dark mode" src="${gh.url}/user-attachments/assets/5d1c0e2a-0000-4000-8000-000000000001">`,
      `And the settings: ![The settings page](${gh.url}/${REPOSITORY}/blob/main/docs/settings.png?raw=true)`,
    ].join('\n\n');
    const storage = gh.storageRequests.length;
    const web = gh.requests.length;
    const run = await announce(body, '- notesImages: true', 'images');
    expect(run.code, log(run)).toBe(0);
    const record = await pds.getRecord(run.outputs.uri!);
    const images = record!.value.embed.images as Array<{ alt: string; image: { mimeType: string; size: number }; aspectRatio?: { width: number; height: number } }>;
    expect(images.map((i) => [i.alt, i.image.mimeType, i.image.size, i.aspectRatio])).toEqual([
      ['The dashboard in dark mode', 'image/png', DASHBOARD.length, { width: 800, height: 500 }],
      ['The settings page', 'image/png', SETTINGS.length, { width: 400, height: 300 }],
    ]);
    const fetched = [...gh.requests.slice(web).filter((r) => !r.path.startsWith('/repos/')), ...gh.storageRequests.slice(storage)];
    expect(fetched.map((r) => r.path.replace(/\?.*/, '')).sort()).toEqual(['/github-production-user-asset/5d1c0e2a-0000-4000-8000-000000000001', `/${REPOSITORY}/raw/main/docs/settings.png`, '/user-attachments/assets/5d1c0e2a-0000-4000-8000-000000000001'].sort());
    expect(fetched.filter((r) => r.headers.authorization !== undefined), 'the token goes to the API only').toEqual([]);
    expect(run.stdout).not.toContain('X-Amz-Signature');
  });

  it('a number takes at most that many', async () => {
    const body = `![One](${gh.url}/user-attachments/assets/5d1c0e2a-0000-4000-8000-000000000001)\n\n![Two](${gh.url}/user-attachments/assets/5d1c0e2a-0000-4000-8000-000000000002)`;
    const run = await announce(body, '- notesImages: 1', 'one');
    expect(run.code, log(run)).toBe(0);
    const record = await pds.getRecord(run.outputs.uri!);
    expect((record!.value.embed.images as Array<{ alt: string }>).map((i) => i.alt)).toEqual(['One']);
  });

  it.each([
    ["a pasted screenshot with GitHub's alt text 'image'", '<img alt="image" src="GH/user-attachments/assets/5d1c0e2a-0000-4000-8000-000000000002">', /takes image 1 of the release notes \(.*\), whose alt text 'image' describes nothing/],
    ['an attachment that cannot be fetched (a private repository)', '![A chart](GH/user-attachments/assets/5d1c0e2a-0000-4000-8000-00000000dead)', /could not be downloaded: the server answered HTTP 404\. A workflow fetches images without signing in/],
  ])('%s is refused naming the input, and nothing is posted', async (_name, body, message) => {
    const before = (await pds.listPosts(alice.did)).length;
    const run = await announce(body.replace('GH', gh.url), '- notesImages: true', 'refused');
    expect(run.code).toBe(1);
    expect(log(run)).toMatch(message);
    expect(log(run)).toMatch(/Input 'media'/);
    expect((await pds.listPosts(alice.did)).length).toBe(before);
  });
});
