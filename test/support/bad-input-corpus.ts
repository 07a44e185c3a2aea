/**
 * The bad-input corpus: inputs and post files the action must refuse before sending anything,
 * each with where the error must point and what it must say. Run through the bundle by
 * e2e/bad-input.test.ts, and through the published JSON Schema by repo/post-schema-json.test.ts.
 */
import { DEFAULT_ACCOUNTS } from './fake-letmepost.js';
import { mp4, png } from './images.js';

const MP4_HEAD = mp4();

export const TOKEN = 'lmp_test_secret_token';
export const MASTODON_TOKEN = 'mastodon_test_secret_token';
export const account = (platform: string) => DEFAULT_ACCOUNTS.find((a) => a.platform === platform)!.id;
export const BLUESKY = account('bluesky');
export const TWITTER = account('twitter');
export const LINKEDIN = account('linkedin');
export const PINTEREST = account('pinterest');
export const THREADS = account('threads');
export const INSTAGRAM = account('instagram');
export const TIKTOK = account('tiktok');
export const NEXT_YEAR = new Date().getUTCFullYear() + 1;

/** A file's content, a symlink, or a sparse file of `size` bytes that starts with `head` (costs no disk). */
export type Content = string | Buffer | { symlink: string } | { sparse: number; head: Buffer };
export type Files = Record<string, Content>;

// ───────────────────────────── the cases ─────────────────────────────

export type Where = { input: string } | { file: string; line: number } | { file: string; wholeFile: true };

export interface BadCase {
  name: string;
  inputs?: Record<string, string>;
  /** Post files added by the pushed commit (a push event); absent: an inline post on a release event. */
  posts?: Files;
  /** Files already in the repository. */
  assets?: Files;
  at: Where;
  /** The part of the message that says what is expected or how to fix it. */
  fix: RegExp;
  /**
   * Post-file cases: why the published JSON Schema cannot refuse this file by itself (it
   * depends on other files, the bytes on disk, the run's inputs, or a platform's own way of
   * counting). Absent: the schema must refuse it too (repo/post-schema-json.test.ts).
   */
  beyondSchema?: string;
}

/** An inline post through letmepost to Bluesky; cases change what they are about. */
export const LMP = { text: 'widgets v1.2.0 is out', platform: 'bluesky', 'account-id': BLUESKY, 'letmepost-token': TOKEN };
export const BSKY_DIRECT = { text: 'widgets v1.2.0 is out', platform: 'bluesky', publisher: 'bluesky', 'bluesky-identifier': 'widgets.bsky.social', 'bluesky-app-password': 'abcd-efgh-ijkl-mnop' };
export const MASTO = { text: 'widgets v1.2.0 is out', platform: 'mastodon', 'mastodon-token': MASTODON_TOKEN };
export const FILE_CREDENTIALS = { 'letmepost-token': TOKEN, 'mastodon-token': MASTODON_TOKEN, 'bluesky-identifier': 'widgets.bsky.social', 'bluesky-app-password': 'abcd-efgh-ijkl-mnop' };

export const ALIAS_BOMB = 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]';
export const FIVE_IMAGES = [0, 1, 2, 3, 4].map((i) => `- path: assets/i${i}.png\n  alt: Screenshot ${i}`).join('\n');
export const FIVE_IMAGE_FILES: Files = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`assets/i${i}.png`, png(16, 16, { seed: i })]));
/** A real PNG over Bluesky's 1,000,000-byte cap (noise does not compress). */
export const BIG_PNG = () => png(600, 600, { noise: true });
export const NOT_AN_IMAGE = 'Release notes, not an image\n';
export const target = (platform: string, acct: string) => `targets:\n  - platform: ${platform}\n    account: ${acct}\n`;
export const LMP_TARGET = target('bluesky', BLUESKY);

export const inputCases: BadCase[] = [
  // YAML in list inputs
  { name: 'invalid YAML in targets', inputs: { ...LMP, platform: '', 'account-id': '', targets: `- platform: bluesky\n  account: [${BLUESKY}` }, at: { input: 'targets' }, fix: /is not valid YAML .*expected a list such as/s },
  { name: 'a YAML alias bomb in media', inputs: { ...LMP, media: ALIAS_BOMB }, at: { input: 'media' }, fix: /uses YAML aliases .* expand to too much data .*write the items out/s },
  { name: 'targets given as a mapping, not a list', inputs: { ...LMP, platform: '', 'account-id': '', targets: `platform: bluesky\naccount: ${BLUESKY}` }, at: { input: 'targets' }, fix: /must be a YAML list \(one '- ' item per entry\)/ },
  // unknown fields, wrong types
  { name: 'an unknown field in a media item', inputs: { ...LMP, media: '- pth: assets/chart.png\n  alt: Chart' }, at: { input: 'media' }, fix: /has 'pth', which is not a field of a media item; did you mean 'path'\?/ },
  { name: 'an unknown field in a target', inputs: { ...LMP, platform: '', 'account-id': '', targets: `- platform: bluesky\n  acount: ${BLUESKY}` }, at: { input: 'targets' }, fix: /has 'acount', which is not a field of a target; did you mean 'account'\?/ },
  { name: 'a target that is a string, not a mapping', inputs: { ...LMP, platform: '', 'account-id': '', targets: '- bluesky' }, at: { input: 'targets' }, fix: /\(item 1\) is 'bluesky'; expected a mapping of fields/ },
  { name: 'a number as alt text', inputs: { ...LMP, media: '- path: assets/chart.png\n  alt: 5' }, at: { input: 'media' }, fix: /is 5 \(a number\); expected text — put it in quotes: '5'/ },
  { name: 'an unknown media kind', inputs: { ...LMP, media: '- path: assets/chart.png\n  alt: Chart\n  kind: gif' }, at: { input: 'media' }, fix: /'kind'\) is 'gif'; expected one of image, video/ },
  { name: 'a release asset spelled as in a workflow input (release-asset)', inputs: { ...LMP, media: '- release-asset: screenshot.png\n  alt: Chart' }, at: { input: 'media' }, fix: /has 'release-asset', which is not a field of a media item; did you mean 'releaseAsset'\?/ },
  { name: 'a misspelt input (schedule-at): GitHub only warns, and the post would go out now', inputs: { ...LMP, 'schedule-at': '2099-01-01T09:00:00Z' }, at: { input: 'schedule-at' }, fix: /Input 'schedule-at' is not an input of this action, so nothing reads it; did you mean 'scheduled-at'\?/ },
  { name: 'notesImages with an alt text of its own', inputs: { ...LMP, media: '- notesImages: true\n  alt: Screenshots' }, at: { input: 'media' }, fix: /notesImages takes each image's alt text from the notes \(!\[what it shows\]\(…\)\); remove 'alt' and 'kind' here/ },
  { name: 'a media item with both path and url', inputs: { ...LMP, media: '- path: assets/chart.png\n  url: https://example.com/chart.png\n  alt: Chart' }, at: { input: 'media' }, fix: /give exactly one of path, url, releaseAsset or notesImages/ },
  // text
  { name: 'an empty text (whitespace only)', inputs: { ...LMP, text: '  \n  ' }, at: { input: 'text' }, fix: /is empty, but 'platform' and 'account-id' are set .*give the text to post/s },
  { name: "a text over Bluesky's cap", inputs: { ...LMP, text: 'x'.repeat(301) }, at: { input: 'text' }, fix: /is 301 characters, over Bluesky's limit of 300 by 1; shorten it/ },
  { name: 'a language that is not a language tag', inputs: { ...BSKY_DIRECT, languages: 'english' }, at: { input: 'languages' }, fix: /a BCP-47 language tag such as en, de or pt-BR/ },
  { name: 'four languages for a Bluesky record', inputs: { ...BSKY_DIRECT, languages: 'en, de, fr, es' }, at: { input: 'languages' }, fix: /at most 3 languages/ },
  { name: 'an unknown content label', inputs: { ...BSKY_DIRECT, 'content-labels': 'spoiler' }, at: { input: 'content-labels' }, fix: /expected one of nudity, sexual, porn, graphic-media/ },
  { name: 'languages where no target carries them', inputs: { ...LMP, languages: 'en' }, at: { input: 'languages' }, fix: /no target of this post carries it \(letmepost does not\)/ },
  { name: 'an unknown release-notes mode', inputs: { ...LMP, text: 'v1 {{ release.body }}', 'release-notes': 'split' }, at: { input: 'release-notes' }, fix: /expected one of truncate, thread, link-only/ },
  { name: 'a platform text for a platform no target posts to', inputs: { ...LMP, 'text-mastodon': 'hello' }, at: { input: 'text-mastodon' }, fix: /is set, but no target posts to mastodon \(the targets are on bluesky\); remove it, or add a target on that platform/ },
  { name: "a platform text over its own platform's cap", inputs: { ...LMP, 'text-bluesky': 'x'.repeat(301) }, at: { input: 'text-bluesky' }, fix: /is 301 characters, over Bluesky's limit of 300 by 1; shorten it/ },
  { name: "a text over X's cap, each link counted as 23", inputs: { ...LMP, platform: 'x', 'account-id': TWITTER, text: `${'x'.repeat(257)} https://example.com/releases/v1.2.0/notes` }, at: { input: 'text' }, fix: /is 281 characters \(as X counts: every link 23, most CJK characters and emoji 2\), over X \(Twitter\)'s limit of 280 by 1; shorten it/ },
  { name: "a text over X's cap, CJK characters weighing 2", inputs: { ...LMP, platform: 'x', 'account-id': TWITTER, text: '日本語'.repeat(47) }, at: { input: 'text' }, fix: /is 282 characters \(as X counts: .*\), over X \(Twitter\)'s limit of 280 by 2/ },
  { name: "a text over LinkedIn's cap", inputs: { ...LMP, platform: 'linkedin', 'account-id': LINKEDIN, text: 'y'.repeat(3001) }, at: { input: 'text' }, fix: /is 3001 characters, over LinkedIn's limit of 3000 by 1; shorten it/ },
  // schedule
  { name: 'a malformed scheduled-at', inputs: { ...LMP, 'scheduled-at': 'next tuesday' }, at: { input: 'scheduled-at' }, fix: /not an ISO-8601 date and time; write it as YYYY-MM-DDTHH:MM:SSZ/ },
  { name: 'a scheduled-at on a day the month does not have', inputs: { ...LMP, 'scheduled-at': `${NEXT_YEAR}-02-30T09:00:00Z` }, at: { input: 'scheduled-at' }, fix: /not a real date and time; check the month, the day and the time/ },
  { name: 'a scheduled-at without a time zone', inputs: { ...LMP, 'scheduled-at': `${NEXT_YEAR}-12-01T09:00:00` }, at: { input: 'scheduled-at' }, fix: /has no time zone; add Z for UTC or an offset such as \+02:00/ },
  // platform, account, credentials
  { name: 'a Bluesky reply with its uri but no cid', inputs: { ...LMP, 'bluesky-reply-to-uri': 'at://did:plc:abc/app.bsky.feed.post/3k2a' }, at: { input: 'bluesky-reply-to-cid' }, fix: /is empty, but 'bluesky-reply-to-uri' is set; a reply names the post by both/ },
  { name: 'a Bluesky reply to something that is not a post AT-URI', inputs: { ...LMP, 'bluesky-reply-to-uri': 'https://bsky.app/profile/a/post/3k2a', 'bluesky-reply-to-cid': 'bafyreiabcdefghijklmnop' }, at: { input: 'bluesky-reply-to-uri' }, fix: /an AT-URI of a Bluesky post, at:\/\/<did>\/app\.bsky\.feed\.post\/<rkey>/ },
  { name: 'an X reply that also quotes', inputs: { ...LMP, platform: 'x', 'account-id': TWITTER, 'x-reply-to-tweet-id': '1790000000000000001', 'x-quote-tweet-id': '1790000000000000002' }, at: { input: 'x-quote-tweet-id' }, fix: /an X post can reply or quote, not both/ },
  { name: 'an X reply to something that is not a post id', inputs: { ...LMP, platform: 'x', 'account-id': TWITTER, 'x-reply-to-tweet-id': 'https://x.com/a/status/1' }, at: { input: 'x-reply-to-tweet-id' }, fix: /a post id: the digits at the end of its x\.com link/ },
  { name: 'X options without an X target', inputs: { ...LMP, 'x-quote-tweet-id': '1790000000000000002' }, at: { input: 'x-reply-to-tweet-id' }, fix: /is set, but no target posts to X \(Twitter\), so it would be ignored/ },
  { name: 'an unknown TikTok privacy', inputs: { ...LMP, platform: 'tiktok', 'account-id': TIKTOK, media: '- url: https://example.com/v.mp4\n  alt: A clip', 'tiktok-privacy': 'friends' }, at: { input: 'tiktok-privacy' }, fix: /is 'friends'; expected one of public_to_everyone, mutual_follow_friend, self_only/ },
  { name: 'both TikTok brand toggles', inputs: { ...LMP, platform: 'tiktok', 'account-id': TIKTOK, media: '- url: https://example.com/v.mp4\n  alt: A clip', 'tiktok-brand-content-toggle': 'true', 'tiktok-brand-organic-toggle': 'true' }, at: { input: 'tiktok-brand-organic-toggle' }, fix: /TikTok takes one of brandContentToggle and brandOrganicToggle, not both/ },
  { name: 'a template reaching for what every JavaScript object inherits', inputs: { ...LMP, text: 'Built by {{ constructor }} {{ toString }}' }, at: { input: 'text' }, fix: /\{\{ constructor \}\} is not a known placeholder/ },
  { name: 'a template reaching into an inherited property', inputs: { ...LMP, text: 'Hi {{ constructor.name }} and {{ __proto__ }}' }, at: { input: 'text' }, fix: /\{\{ constructor\.name \}\} is not a known placeholder/ },
  { name: 'an unknown template filter', inputs: { ...LMP, text: 'Notes: {{ release.name | upcase }}' }, at: { input: 'text' }, fix: /'upcase' is not a filter; the filters are: truncate: N/ },
  { name: 'a text that would be a runaway thread on Bluesky', inputs: { ...BSKY_DIRECT, text: 'Release notes line with some words in it. '.repeat(100) }, at: { input: 'text' }, fix: /would be a thread of 1[0-9] posts on Bluesky, more than 'max-thread-posts' \(10\); shorten it, give a 'thread' list .*truncate: 250/ },
  { name: 'a local video over letmepost\'s upload limit (a sparse 300 MB file: refused before any upload)', assets: { 'assets/huge.mp4': { sparse: 300 * 1024 * 1024, head: MP4_HEAD } }, inputs: { ...LMP, platform: 'x', 'account-id': TWITTER, media: '- path: assets/huge.mp4\n  alt: A long demo' }, at: { input: 'media' }, fix: /is 314,572,800 bytes; X \(Twitter\) videos must be at most 209,715,200 bytes \(letmepost's upload limit\); shorten or recompress it/ },
  { name: 'an unknown platform', inputs: { ...LMP, platform: 'myspace' }, at: { input: 'platform' }, fix: /is 'myspace'; expected one of bluesky, twitter, .*mastodon/ },
  { name: 'a malformed account id', inputs: { ...LMP, 'account-id': 'acct_123' }, at: { input: 'account-id' }, fix: /is 'acct_123', which is not a uuid; copy the account id from the letmepost dashboard/ },
  { name: 'no letmepost-token for a letmepost post', inputs: { ...LMP, 'letmepost-token': '' }, at: { input: 'letmepost-token' }, fix: /is required to post through letmepost; add an API key as a repository secret and pass it/ },
  { name: 'no bluesky-identifier for the Bluesky publisher', inputs: { ...BSKY_DIRECT, 'bluesky-identifier': '' }, at: { input: 'bluesky-identifier' }, fix: /is required to post to Bluesky directly; set it to the account's handle/ },
  { name: 'no bluesky-app-password for the Bluesky publisher', inputs: { ...BSKY_DIRECT, 'bluesky-app-password': '' }, at: { input: 'bluesky-app-password' }, fix: /is required to post to Bluesky directly; create an app password/ },
  { name: 'no mastodon-server for a Mastodon post', inputs: { ...MASTO, 'mastodon-server': '' }, at: { input: 'mastodon-server' }, fix: /is required to post to Mastodon; set it to your instance's URL/ },
  { name: 'no mastodon-token for a Mastodon post', inputs: { ...MASTO, 'mastodon-token': '' }, at: { input: 'mastodon-token' }, fix: /is required to post to Mastodon; create an application with the write:statuses and write:media scopes/ },
  { name: 'Mastodon through letmepost', inputs: { ...LMP, platform: 'mastodon', publisher: 'letmepost' }, at: { input: 'publisher' }, fix: /does not serve Mastodon; use 'publisher: mastodon'/ },
  { name: 'the Bluesky publisher asked to post to LinkedIn', inputs: { ...BSKY_DIRECT, platform: 'linkedin' }, at: { input: 'publisher' }, fix: /the bluesky publisher posts only to bluesky/ },
  // media
  { name: 'a media file that does not exist', inputs: { ...LMP, media: '- path: assets/missing.png\n  alt: Chart' }, at: { input: 'media' }, fix: /'assets\/missing\.png' does not exist .*check the path and that the file is committed and checked out/ },
  { name: 'a media path outside the workspace', inputs: { ...LMP, media: '- path: ../../etc/hostname\n  alt: Host' }, at: { input: 'media' }, fix: /points outside the workspace; media must be files in the repository/ },
  { name: 'an absolute media path', inputs: { ...LMP, media: '- path: /etc/hostname\n  alt: Host' }, at: { input: 'media' }, fix: /is an absolute path; give a path relative to the repository/ },
  { name: 'a media symlink escaping the workspace', assets: { 'assets/escape.png': { symlink: '$OUTSIDE/secret.png' } }, inputs: { ...LMP, media: '- path: assets/escape.png\n  alt: Chart' }, at: { input: 'media' }, fix: /is a symlink that leads outside the workspace; media must be files in the repository/ },
  { name: 'an image too big for Bluesky', assets: { 'assets/big.png': BIG_PNG() }, inputs: { ...LMP, media: '- path: assets/big.png\n  alt: Chart' }, at: { input: 'media' }, fix: /Bluesky images must be at most 1,000,000 bytes; resize or recompress it/ },
  { name: 'a text file named .png', assets: { 'assets/notes.png': NOT_AN_IMAGE }, inputs: { ...LMP, media: '- path: assets/notes.png\n  alt: Notes' }, at: { input: 'media' }, fix: /is not a PNG, JPEG, GIF, WebP image or an MP4\/MOV video \(checked by its content, not its name\); point 'path' at the image/ },
  { name: 'five images for Bluesky', assets: FIVE_IMAGE_FILES, inputs: { ...LMP, media: FIVE_IMAGES }, at: { input: 'media' }, fix: /has 5 images; Bluesky takes at most 4; remove 1/ },
  { name: 'two images for a Pinterest pin', assets: FIVE_IMAGE_FILES, inputs: { ...LMP, platform: 'pinterest', 'account-id': PINTEREST, 'pinterest-board-id': 'board-1', media: '- path: assets/i0.png\n  alt: A\n- path: assets/i1.png\n  alt: B' }, at: { input: 'media' }, fix: /has 2 images; Pinterest takes at most 1; remove 1/ },
  { name: 'an Instagram post without media', inputs: { ...LMP, platform: 'instagram', 'account-id': INSTAGRAM }, at: { input: 'media' }, fix: /Instagram requires an image or a video; add one/ },
  // keys and templates
  { name: 'an idempotency-key with spaces and punctuation', inputs: { ...LMP, 'idempotency-key': 'release v1.2!' }, at: { input: 'idempotency-key' }, fix: /is 'release v1\.2!'; use 1 to 128 letters, digits, '-' or '_'/ },
  { name: 'an idempotency-key of 129 characters', inputs: { ...LMP, 'idempotency-key': 'k'.repeat(129) }, at: { input: 'idempotency-key' }, fix: /\(129 characters\); use 1 to 128 letters, digits/ },
  { name: 'an unknown template placeholder', inputs: { ...LMP, text: 'Out now: {{ release.tag_nme }}' }, at: { input: 'text' }, fix: /\{\{ release\.tag_nme \}\} is not in this release event's release\. Did you mean \{\{ release\.tag_name \}\}\?/ },
  { name: 'a template that reaches for a secret', inputs: { ...LMP, text: 'token: {{ secrets.LETMEPOST_TOKEN }}' }, at: { input: 'text' }, fix: /is not allowed: templates read only the GitHub event and the run context, never .*secrets/ },
  // options that do not fit the target
  { name: 'first-comment with scheduled-at', inputs: { ...LMP, 'first-comment': 'Changelog: https://example.com', 'scheduled-at': `${NEXT_YEAR}-12-01T09:00:00Z` }, at: { input: 'first-comment' }, fix: /cannot be combined with a scheduled post .*remove the schedule or the first comment/ },
  { name: 'first-comment on LinkedIn', inputs: { ...LMP, platform: 'linkedin', 'account-id': LINKEDIN, 'first-comment': 'Changelog' }, at: { input: 'first-comment' }, fix: /first comments are supported on Bluesky only \(this target is LinkedIn\); remove it/ },
  { name: 'a thread through letmepost', inputs: { ...LMP, text: '', thread: '- First post\n- Second post' }, at: { input: 'thread' }, fix: /letmepost publishes one text per post; write one 'text', or post the thread with the direct Bluesky or Mastodon publisher/ },
  { name: 'Pinterest without a board', inputs: { ...LMP, platform: 'pinterest', 'account-id': PINTEREST, media: '- path: assets/chart.png\n  alt: Chart' }, at: { input: 'pinterest-board-id' }, fix: /Pinterest needs a board; set the board id/ },
  // plain inputs
  { name: "dry-run: 'yes'", inputs: { ...LMP, 'dry-run': 'yes' }, at: { input: 'dry-run' }, fix: /is 'yes'; expected true or false/ },
  { name: 'an unknown publisher', inputs: { ...LMP, publisher: 'buffer' }, at: { input: 'publisher' }, fix: /is 'buffer'; expected one of auto, letmepost, bluesky, mastodon/ },
  { name: 'an unknown select', inputs: { ...LMP, select: 'some' }, at: { input: 'select' }, fix: /is 'some'; expected one of added, all/ },
  { name: 'timeout-seconds below the minimum', inputs: { ...LMP, 'timeout-seconds': '5' }, at: { input: 'timeout-seconds' }, fix: /is '5'; expected a whole number of seconds from 10 to 21600/ },
  { name: 'request-timeout-seconds that is not a number', inputs: { ...LMP, 'request-timeout-seconds': 'fast' }, at: { input: 'request-timeout-seconds' }, fix: /is 'fast'; expected a whole number of seconds from 1 to 600/ },
  { name: 'targets combined with platform', inputs: { ...LMP, targets: `- platform: x\n  account: ${TWITTER}` }, at: { input: 'targets' }, fix: /cannot be combined with 'platform' or 'account-id'; put every target in the 'targets' list/ },
  { name: 'a letmepost-api-url that is not http(s)', inputs: { ...LMP, 'letmepost-api-url': 'ftp://api.letmepost.dev' }, at: { input: 'letmepost-api-url' }, fix: /expected an http\(s\) URL such as https:\/\/api\.letmepost\.dev/ },
  { name: "a 'files' pattern that leaves the repository", inputs: { ...FILE_CREDENTIALS, files: 'posts/**/*.yml\n../other/*.yml' }, posts: { 'posts/ok.yml': `text: hi\n${LMP_TARGET}` }, at: { input: 'files' }, fix: /patterns are relative to the repository and stay inside it \(no leading '\/', no '\.\.'/ },
];

export const fileCases: BadCase[] = [
  { name: "invalid YAML: an unquoted ': ' in the text", beyondSchema: 'not YAML: there is nothing to validate', posts: { 'posts/colon.yml': `text: Release: widgets 1.2 is out\n${LMP_TARGET}` }, at: { file: 'posts/colon.yml', line: 1 }, fix: /YAML syntax error: .*; a value that contains ': ' must be quoted, e.g. text: "Release/ },
  { name: 'invalid YAML: an unclosed bracket', beyondSchema: 'not YAML: there is nothing to validate', posts: { 'posts/bracket.yml': `text: hi\ntargets:\n  - platform: bluesky\n    account: [${BLUESKY}\n` }, at: { file: 'posts/bracket.yml', line: 5 }, fix: /YAML syntax error: .*end with a \]; .*close every bracket that was opened/ },
  { name: 'invalid YAML: a tab as indentation', beyondSchema: 'not YAML: there is nothing to validate', posts: { 'posts/tab.yml': `text: hi\ntargets:\n\t- platform: bluesky\n\t  account: ${BLUESKY}\n` }, at: { file: 'posts/tab.yml', line: 3 }, fix: /YAML syntax error: .*; indent with spaces, not tabs/ },
  { name: 'a YAML alias bomb', beyondSchema: 'a YAML parser limit, not a schema rule', posts: { 'posts/bomb.yml': `${ALIAS_BOMB}\ntext: hi\n${LMP_TARGET}` }, at: { file: 'posts/bomb.yml', line: 2 }, fix: /uses YAML aliases \(\*name\) that expand to too much data .*write the values out instead/ },
  { name: 'a file over the size cap', beyondSchema: 'the size of the file, not its content', posts: { 'posts/huge.yml': `text: "${'a'.repeat(300 * 1024)}"\n${LMP_TARGET}` }, at: { file: 'posts/huge.yml', wholeFile: true }, fix: /is 301 KB; post files are limited to 256 KB — split the posts into several files/ },
  { name: 'a file that is not UTF-8', beyondSchema: 'the encoding of the file, not its content', posts: { 'posts/latin1.yml': Buffer.concat([Buffer.from('text: caf'), Buffer.from([0xe9]), Buffer.from(`\n${LMP_TARGET}`)]) }, at: { file: 'posts/latin1.yml', wholeFile: true }, fix: /is not UTF-8 text; save it as UTF-8/ },
  { name: 'a post file that is a symlink out of the workspace', beyondSchema: 'where the file is, not its content', posts: { 'posts/link.yml': { symlink: '$OUTSIDE/secret.yml' } }, at: { file: 'posts/link.yml', wholeFile: true }, fix: /is a symlink; post files must be files in the repository/ },
  { name: 'a document that is a list', posts: { 'posts/list.yml': `- text: hi\n  ${LMP_TARGET.replace(/\n(?=.)/g, '\n  ')}` }, at: { file: 'posts/list.yml', line: 1 }, fix: /This file is a list; each YAML document is one post: a mapping with text \(or thread\) and targets/ },
  { name: "an unknown field, with 'did you mean'", posts: { 'posts/typo.yml': `text: hi\n${LMP_TARGET}sheduledAt: "${NEXT_YEAR}-12-01T09:00:00Z"\n` }, at: { file: 'posts/typo.yml', line: 5 }, fix: /'sheduledAt' is not a field; did you mean 'scheduledAt'\?/ },
  { name: 'a number where text belongs', posts: { 'posts/number.yml': `text: 42\n${LMP_TARGET}` }, at: { file: 'posts/number.yml', line: 1 }, fix: /'text' is 42 \(a number\); expected text — put it in quotes: '42'/ },
  { name: 'targets that is not a list', posts: { 'posts/targets.yml': 'text: hi\ntargets: bluesky\n' }, at: { file: 'posts/targets.yml', line: 2 }, fix: /'targets' is 'bluesky'; expected a list/ },
  { name: 'no targets', posts: { 'posts/notargets.yml': 'id: launch\ntext: hi\n' }, at: { file: 'posts/notargets.yml', line: 1 }, fix: /'targets' is missing; add where to post/ },
  { name: 'both text and thread', posts: { 'posts/both.yml': `text: hi\nthread: [a, b]\n${LMP_TARGET}` }, at: { file: 'posts/both.yml', line: 2 }, fix: /'thread' cannot be combined with 'text'; give one of them/ },
  { name: 'an empty text', posts: { 'posts/empty.yml': `text: ""\n${LMP_TARGET}` }, at: { file: 'posts/empty.yml', line: 1 }, fix: /'text' is empty; write the text to post/ },
  { name: "a text over Threads' cap", beyondSchema: "length in graphemes (and X's weights): JSON Schema counts code points", posts: { 'posts/long.yml': `text: ${'t'.repeat(501)}\n${target('threads', THREADS)}` }, at: { file: 'posts/long.yml', line: 1 }, fix: /is 501 characters, over Threads.s limit of 500 by 1; shorten it/ },
  { name: 'a malformed scheduledAt', posts: { 'posts/soon.yml': `text: hi\nscheduledAt: soon\n${LMP_TARGET}` }, at: { file: 'posts/soon.yml', line: 2 }, fix: /not an ISO-8601 date and time; write it as YYYY-MM-DDTHH:MM:SSZ/ },
  { name: 'a scheduledAt without a time zone', posts: { 'posts/nozone.yml': `text: hi\nscheduledAt: ${NEXT_YEAR}-12-01T09:00:00\n${LMP_TARGET}` }, at: { file: 'posts/nozone.yml', line: 2 }, fix: /has no time zone; add Z for UTC or an offset/ },
  { name: 'an unknown platform', posts: { 'posts/platform.yml': `text: hi\n${target('myspace', BLUESKY)}` }, at: { file: 'posts/platform.yml', line: 3 }, fix: /unknown platform 'myspace'; use one of bluesky, twitter/ },
  { name: 'a malformed account id', posts: { 'posts/account.yml': `text: hi\n${target('linkedin', 'acct_123')}` }, at: { file: 'posts/account.yml', line: 3 }, fix: /has account 'acct_123', which is neither a letmepost account id \(a uuid\) nor 'bluesky' \/ 'mastodon'; copy the id from the letmepost dashboard/ },
  { name: 'an id with spaces', posts: { 'posts/id.yml': `id: launch day!\ntext: hi\n${LMP_TARGET}` }, at: { file: 'posts/id.yml', line: 1 }, fix: /'id' is 'launch day!'; expected up to 64 letters, digits, dots, dashes or underscores/ },
  { name: 'the same id in two files', beyondSchema: 'depends on other files', posts: { 'posts/a.yml': `id: launch\ntext: first\n${LMP_TARGET}`, 'posts/b.yml': `# copied from a.yml\nid: launch\ntext: second\n${LMP_TARGET}` }, at: { file: 'posts/b.yml', line: 2 }, fix: /'id' is 'launch', which posts\/a\.yml:1 already uses; every post needs its own id/ },
  { name: 'an unknown template placeholder', beyondSchema: 'depends on the event the run is for', posts: { 'posts/tpl.yml': `text: |\n  Shipped in {{ sha_shrot }}\n${LMP_TARGET}` }, at: { file: 'posts/tpl.yml', line: 2 }, fix: /\{\{ sha_shrot \}\} is not a known placeholder\. Did you mean \{\{ sha_short \}\}\?/ },
  { name: 'a retract that is neither true nor a reason', posts: { 'posts/retract.yml': `text: hi\nretract: 3\n${LMP_TARGET}` }, at: { file: 'posts/retract.yml', line: 2 }, fix: /'retract' is 3 \(a number\); expected true .*or the reason as text/ },
  { name: 'firstComment with scheduledAt', posts: { 'posts/fc.yml': `text: hi\nfirstComment: more\nscheduledAt: "${NEXT_YEAR}-12-01T09:00:00Z"\n${LMP_TARGET}` }, at: { file: 'posts/fc.yml', line: 2 }, fix: /cannot be combined with a scheduled post .*remove the schedule or the first comment/ },
  { name: 'firstComment on X', posts: { 'posts/fcx.yml': `text: hi\nfirstComment: more\n${target('x', TWITTER)}` }, at: { file: 'posts/fcx.yml', line: 2 }, fix: /first comments are supported on Bluesky only \(this target is X \(Twitter\)\); remove it/ },
  { name: 'a thread through letmepost', posts: { 'posts/thread.yml': `thread:\n  - one\n  - two\n${LMP_TARGET}` }, at: { file: 'posts/thread.yml', line: 2 }, fix: /letmepost publishes one text per post; write one 'text', or post the thread with the direct Bluesky or Mastodon publisher/ },
  { name: 'Pinterest without a board', posts: { 'posts/pin.yml': `text: hi\nmedia:\n  - path: ../assets/chart.png\n    alt: Chart\n${target('pinterest', PINTEREST)}` }, at: { file: 'posts/pin.yml', line: 1 }, fix: /Pinterest needs a board; set the board id/ },
  { name: 'a media file that does not exist', beyondSchema: 'depends on the files in the repository', posts: { 'posts/m1.yml': `text: hi\nmedia:\n  - path: missing.png\n    alt: x\n${LMP_TARGET}` }, at: { file: 'posts/m1.yml', line: 3 }, fix: /'missing\.png' does not exist \(looked for posts\/missing\.png\); check the path/ },
  { name: 'a media path outside the workspace', beyondSchema: 'depends on the files in the repository', posts: { 'posts/m2.yml': `text: hi\nmedia:\n  - path: ../../outside.png\n    alt: x\n${LMP_TARGET}` }, at: { file: 'posts/m2.yml', line: 3 }, fix: /points outside the workspace; media must be files in the repository/ },
  { name: 'a media symlink escaping the workspace', beyondSchema: 'depends on the files in the repository', assets: { 'assets/escape.png': { symlink: '$OUTSIDE/secret.png' } }, posts: { 'posts/m3.yml': `text: hi\nmedia:\n  - path: ../assets/escape.png\n    alt: x\n${LMP_TARGET}` }, at: { file: 'posts/m3.yml', line: 3 }, fix: /is a symlink that leads outside the workspace/ },
  { name: 'an image too big for Bluesky', beyondSchema: 'depends on the bytes of the media file', assets: { 'assets/big.png': BIG_PNG() }, posts: { 'posts/m4.yml': `text: hi\nmedia:\n  - path: ../assets/big.png\n    alt: x\n${target('bluesky', 'bluesky')}` }, at: { file: 'posts/m4.yml', line: 3 }, fix: /Bluesky images must be at most 1,000,000 bytes; resize or recompress it/ },
  { name: 'a text file named .png', beyondSchema: 'depends on the bytes of the media file', assets: { 'assets/notes.png': NOT_AN_IMAGE }, posts: { 'posts/m5.yml': `text: hi\nmedia:\n  - path: ../assets/chart.png\n    alt: ok\n  - path: ../assets/notes.png\n    alt: x\n${LMP_TARGET}` }, at: { file: 'posts/m5.yml', line: 5 }, fix: /is not a PNG, JPEG, GIF, WebP image or an MP4\/MOV video/ },
  { name: 'five images for Bluesky', assets: FIVE_IMAGE_FILES, posts: { 'posts/m6.yml': `text: hi\nmedia:\n${[0, 1, 2, 3, 4].map((i) => `  - path: ../assets/i${i}.png\n    alt: Screenshot ${i}\n`).join('')}${LMP_TARGET}` }, at: { file: 'posts/m6.yml', line: 3 }, fix: /has 5 images; Bluesky takes at most 4; remove 1/ },
  { name: 'a Mastodon post without mastodon-token', beyondSchema: "depends on the step's inputs", inputs: { 'mastodon-token': '' }, posts: { 'posts/masto.yml': `text: hi\n${target('mastodon', 'mastodon')}` }, at: { input: 'mastodon-token' }, fix: /is required to post to Mastodon; create an application/ },
  { name: 'a direct Bluesky post without bluesky-app-password', beyondSchema: "depends on the step's inputs", inputs: { 'bluesky-app-password': '' }, posts: { 'posts/bsky.yml': `text: hi\n${target('bluesky', 'bluesky')}` }, at: { input: 'bluesky-app-password' }, fix: /is required to post to Bluesky directly; create an app password/ },
  { name: 'a letmepost post without letmepost-token', beyondSchema: "depends on the step's inputs", inputs: { 'letmepost-token': '' }, posts: { 'posts/lmp.yml': `text: hi\n${LMP_TARGET}` }, at: { input: 'letmepost-token' }, fix: /is required to post through letmepost; add an API key/ },
];
