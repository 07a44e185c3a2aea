/**
 * GitHub's automatically generated release notes, shaped for a post. GitHub writes each
 * merged pull request as `* <title> by @<author> in https://github.com/<o>/<r>/pull/<n>`,
 * a "New Contributors" list of `* @<login> made their first contribution in <link>`, and a
 * `**Full Changelog**: <compare link>` line. In a post, a change becomes `<title> (#n)` — the
 * author and the long link go, `#n` links to the pull request where links travel beside the
 * text — and the new contributors become one line of names, nobody tagged.
 */
import { neutralizeReferences, RichTextBuilder, type MarkdownOptions, type RichText } from './rich-text.js';

const CHANGE = /^(?<title>.+?) by @(?<author>[A-Za-z0-9-]+(?:\[bot\])?) in (?<url>https:\/\/\S+\/pull\/(?<number>\d+))\s*$/s;
const NEW_CONTRIBUTOR = /^\s*@(?<login>[A-Za-z0-9-]+(?:\[bot\])?) made their first contribution in (?<url>https:\/\/\S+)\s*$/s;

export function isGeneratedChange(line: string): boolean {
  return CHANGE.test(line.trim());
}

/** `<title> (#n)`, the title's own references neutralised, `#n` linking to the pull request. */
export function shapedChange(line: string, opts: MarkdownOptions): RichText {
  const { title, url, number } = CHANGE.exec(line.trim())!.groups!;
  const b = new RichTextBuilder().append(neutralizeReferences(title!.replace(/\s+/g, ' ').trim(), opts)).add(' (');
  if (opts.links === 'facets') b.link(`#${number}`, url!);
  else b.add(`#${number}`);
  return b.add(')').build();
}

export function isNewContributor(line: string): boolean {
  return NEW_CONTRIBUTOR.test(line);
}

/** `New contributors: alice, bob` — each name a link to the profile where links travel beside the text. */
export function newContributorsBlock(lines: readonly string[], opts: MarkdownOptions): RichText {
  const b = new RichTextBuilder().add('New contributors: ');
  lines.forEach((line, i) => {
    const login = NEW_CONTRIBUTOR.exec(line)!.groups!.login!;
    if (i > 0) b.add(', ');
    if (opts.links === 'facets') b.link(login, `${opts.serverUrl}/${login.replace(/\[bot\]$/, '')}`);
    else b.add(login);
  });
  return b.build();
}
