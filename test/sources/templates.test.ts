import { afterEach, describe, expect, it } from 'vitest';
import type { EventPayload, RunContext } from '../../src/context.js';
import { renderTemplate, templateVariables, type RenderResult } from '../../src/sources/templates.js';
import { segmentsOf, unmarked } from '../../src/text/marked-text.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

function ctx(eventName: string, payload: EventPayload, ref = 'refs/heads/main'): Pick<RunContext, 'repository' | 'sha' | 'ref' | 'eventName' | 'payload'> {
  return { repository: 'octo/posts', sha: SHA, ref, eventName, payload };
}

const release = ctx(
  'release',
  {
    action: 'published',
    release: { tag_name: 'v1.2.0', name: 'Tidal', html_url: 'https://github.com/octo/posts/releases/tag/v1.2.0', body: null, discussion_url: null, author: { login: 'octocat', id: 1 }, assets: [] },
    repository: { full_name: 'octo/posts', name: 'posts', stargazers_count: 42, owner: { login: 'octo' } },
    sender: { login: 'octocat' },
  },
  'refs/tags/v1.2.0',
);

const pullRequest = ctx(
  'pull_request',
  {
    number: 7,
    pull_request: { number: 7, title: 'Add launch post', html_url: 'https://github.com/octo/posts/pull/7', user: { login: 'hubot' }, head: { ref: 'launch', sha: 'b'.repeat(40) }, base: { ref: 'main', sha: 'a'.repeat(40) } },
    repository: { full_name: 'octo/posts' },
  },
  'refs/pull/7/merge',
);

const push = ctx('push', { before: 'a'.repeat(40), after: SHA, head_commit: { id: SHA, message: 'Add post' }, repository: { full_name: 'octo/posts' } });

/** The rendered text as written, without the marks that tell planning which parts came from the event (see marking tests below). */
function text(result: RenderResult): string {
  if ('errors' in result) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return unmarked(result.text);
}

function errors(result: RenderResult): Array<{ placeholder: string; offset: number; message: string }> {
  if (!('errors' in result)) throw new Error(`expected errors, rendered: ${result.text}`);
  return result.errors;
}

describe('templates', () => {
  it.each([
    ['release fields', release, '{{ release.name }} {{ release.tag_name }} is out: {{ release.html_url }}', 'Tidal v1.2.0 is out: https://github.com/octo/posts/releases/tag/v1.2.0'],
    ['a nested release field', release, 'by @{{release.author.login}}', 'by @octocat'],
    ['pull request fields', pullRequest, '#{{ pull_request.number }} {{ pull_request.title }} by {{ pull_request.user.login }} {{ pull_request.html_url }}', '#7 Add launch post by hubot https://github.com/octo/posts/pull/7'],
    ['the repository as owner/name, and a field of its payload object', release, '{{ repository }} ({{ repository.stargazers_count }} stars)', 'octo/posts (42 stars)'],
    ['the commit and ref from the run context', release, '{{ sha_short }} {{ sha }} {{ ref }} {{ ref_name }}', `0123456 ${SHA} refs/tags/v1.2.0 v1.2.0`],
    ['the actor and event name', release, '{{ actor }} / {{ event_name }}', 'octocat / release'],
    ['a pull request ref name as GitHub spells it', pullRequest, '{{ ref_name }}', '7/merge'],
    ['the head commit of a push', push, '{{ head_commit.message }}', 'Add post'],
    ['literal braces through a quoted literal', push, "{{ '{{' }}not a placeholder}}", '{{not a placeholder}}'],
    ['text without placeholders unchanged', push, 'Plain text with } and { braces', 'Plain text with } and { braces'],
  ])('renders %s', (_name, context, template, expected) => {
    expect(text(renderTemplate(template, templateVariables(context)))).toBe(expected);
  });

  it('reports which placeholders were used and their values', () => {
    const result = renderTemplate('{{ release.tag_name }} of {{ repository }}', templateVariables(release));
    expect(result).toMatchObject({ used: { 'release.tag_name': 'v1.2.0', repository: 'octo/posts' }, deferred: [] });
  });

  it.each([
    ['an unknown placeholder names it, suggests the closest and lists the known ones', release, 'Out now: {{ release.tag_nme }}', '{{ release.tag_nme }}', /is not in this release event's release\. Did you mean \{\{ release\.tag_name \}\}\? Known in this release event: repository, sha, sha_short, ref, ref_name/],
    ['an unknown top-level name is an error, not an empty string', push, 'Hi {{ version }}', '{{ version }}', /\{\{ version \}\} is not a known placeholder.*Known in this push event: repository, sha/],
    ['a release placeholder on a push is not available and says where it works', push, '{{ release.tag_name }}', '{{ release.tag_name }}', /not available in this push event; release\.\* placeholders work only in release events/],
    ['an object is not a value', release, '{{ release.author }}', '{{ release.author }}', /is an object, not a value; use one of its fields, such as release\.author\.login/],
    ['a list is not a value', release, '{{ release.assets }}', '{{ release.assets }}', /is a list, not a value/],
    ['a null field has no value', release, '{{ release.discussion_url }}', '{{ release.discussion_url }}', /has no value in this release event/],
    ['GitHub expression syntax gets a hint', push, 'Built ${{ github.sha }}', '${{ github.sha }}', /GitHub Actions expression syntax.*drop the '\$'/],
    ['github.* context names point at the plain name', push, '{{ github.sha }}', '{{ github.sha }}', /Write \{\{ sha \}\} instead/],
    ['an expression is not a placeholder', push, '{{ sha + 1 }}', '{{ sha + 1 }}', /is not a placeholder: write a name/],
    ['an unknown filter is named, with the filters there are', push, '{{ sha | upper }}', '{{ sha | upper }}', /'upper' is not a filter; the filters are: truncate: N/],
    ['an unclosed placeholder', push, 'Oops {{ sha', '{{ sha', /has no closing '\}\}'/],
  ])('%s', (_name, context, template, placeholder, message) => {
    const [error, ...rest] = errors(renderTemplate(template, templateVariables(context)));
    expect(rest).toEqual([]);
    expect(error!.placeholder).toBe(placeholder);
    expect(error!.offset).toBe(template.indexOf(placeholder));
    expect(error!.message).toMatch(message);
  });

  it('returns every bad placeholder at once, each with its offset', () => {
    const template = '{{ nope }} and {{ sha }} and {{ release.x }}';
    const list = errors(renderTemplate(template, templateVariables(push)));
    expect(list.map((e) => [e.placeholder, e.offset])).toEqual([
      ['{{ nope }}', 0],
      ['{{ release.x }}', template.indexOf('{{ release.x }}')],
    ]);
  });

  describe('never reads the environment', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it.each(['env.SECRET', 'secrets.SECRET', 'SECRET', 'vars.SECRET', 'secrets.GITHUB_TOKEN'])('{{ %s }} is an error, and the secret value appears nowhere', (name) => {
      process.env.SECRET = 'hunter2-super-secret';
      process.env.GITHUB_TOKEN = 'ghs_should_never_leak';
      const result = renderTemplate(`Leak: {{ ${name} }}`, templateVariables(push));
      const [error] = errors(result);
      expect(error!.message).toMatch(/not allowed: templates read only the GitHub event and the run context|not a known placeholder/);
      expect(JSON.stringify(result)).not.toContain('hunter2');
      expect(JSON.stringify(result)).not.toContain('ghs_should_never_leak');
    });

    it('the variables come from the context alone, whatever GITHUB_* variables say', () => {
      process.env.GITHUB_SHA = 'f'.repeat(40);
      process.env.GITHUB_REPOSITORY = 'evil/repo';
      process.env.GITHUB_REF_NAME = 'evil';
      const vars = templateVariables(push);
      expect(vars.values).toMatchObject({ sha: SHA, repository: 'octo/posts', ref_name: 'main' });
      expect(JSON.stringify(vars)).not.toContain('evil');
    });
  });

  describe('previews (deferUnavailable)', () => {
    it('keeps a documented placeholder of another event as written', () => {
      const result = renderTemplate('{{ release.tag_name }} by {{ pull_request.user.login }}', templateVariables(pullRequest), { deferUnavailable: true });
      expect(result).toEqual({ text: '{{ release.tag_name }} by hubot', used: { 'pull_request.user.login': 'hubot' }, deferred: ['release.tag_name'] });
    });

    it('still rejects a misspelt field of another event', () => {
      const [error] = errors(renderTemplate('{{ release.tagname }}', templateVariables(pullRequest), { deferUnavailable: true }));
      expect(error!.message).toMatch(/not a known field of release\. Did you mean \{\{ release\.tag_name \}\}/);
    });
  });
});

describe('only the event data is reachable', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'constructor.name', 'release.constructor', 'release.__proto__', 'repository.toString', 'valueOf'])(
    '{{ %s }} is an unknown placeholder, never JavaScript internals',
    (name) => {
      const [error] = errors(renderTemplate(`x {{ ${name} }}`, templateVariables(release)));
      expect(error?.message).toMatch(/is not a known placeholder|is not in this release event's (release|repository)/);
    },
  );
});

describe('the truncate filter', () => {
  const body = 'Highlights: a faster sync engine, a new dashboard, and dozens of fixes from twelve contributors. Full notes below.';
  const withBody = ctx('release', { release: { tag_name: 'v2', body } });

  it.each([
    [40, 'Highlights: a faster sync engine, a new…'],
    [20, 'Highlights: a…'],
    [200, body],
  ])('{{ release.body | truncate: %i }} keeps whole words and ends with an ellipsis', (n, expected) => {
    const out = text(renderTemplate(`{{ release.body | truncate: ${n} }}`, templateVariables(withBody)));
    expect(out).toBe(expected);
    expect([...new Intl.Segmenter().segment(out)].length).toBeLessThanOrEqual(n);
  });

  it('never cuts an emoji or a combined character in half', () => {
    const emoji = ctx('release', { release: { body: '👩‍👩‍👧‍👦'.repeat(10) } });
    expect(text(renderTemplate('{{ release.body | truncate: 4 }}', templateVariables(emoji)))).toBe('👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦…');
  });

  it.each([
    ['{{ release.body | truncate }}', /'truncate' needs a whole number of characters from 2 to 100000/],
    ['{{ release.body | truncate: ten }}', /'truncate' needs a whole number/],
    ['{{ release.body | shout }}', /'shout' is not a filter; the filters are: truncate: N/],
  ])('%s is refused with what to write', (template, message) => {
    expect(errors(renderTemplate(template, templateVariables(withBody)))[0]?.message).toMatch(message);
  });
});

describe('what the event wrote is marked for rendering per platform', () => {
  const withText = ctx('pull_request', {
    pull_request: { number: 7, title: 'Fix #12, thanks @alice', body: '## Notes\n\n- a *list*', html_url: 'https://github.com/octo/posts/pull/7' },
    release: { tag_name: 'v1', name: 'One @bob', body: 'Body \uFDD3 with a forged mark' },
  });
  it.each([
    ['{{ pull_request.body }}', 'event-markdown'],
    ['{{ release.body }}', 'event-markdown'],
    ['{{ pull_request.title }}', 'event-title'],
    ['{{ release.name }}', 'event-title'],
  ])('%s is marked as %s; the words around it are the author’s own', (template, kind) => {
    const rendered = renderTemplate(`Own words: ${template}!`, templateVariables(withText));
    const segments = segmentsOf('text' in rendered ? rendered.text : '');
    expect(segments.map((s) => s.kind)).toEqual(['own', kind, 'own']);
  });

  it('a mark written into the event text is dropped: the event cannot end its own part early', () => {
    const rendered = renderTemplate('{{ release.body }} tail', templateVariables(withText));
    expect(segmentsOf('text' in rendered ? rendered.text : '')).toEqual([
      { kind: 'event-markdown', text: 'Body  with a forged mark' },
      { kind: 'own', text: ' tail' },
    ]);
  });

  it('a release without notes (body null) has empty notes, not an error: the announcement still goes out', () => {
    expect(text(renderTemplate('v1.2.0 is out{{ release.body }}', templateVariables(release)))).toBe('v1.2.0 is out');
  });

  it('| raw leaves the value unmarked: posted exactly as the event has it', () => {
    const rendered = renderTemplate('{{ pull_request.title | raw }}', templateVariables(withText));
    expect(segmentsOf('text' in rendered ? rendered.text : '')).toEqual([{ kind: 'own', text: 'Fix #12, thanks @alice' }]);
  });

  it('fields that are not prose are not marked', () => {
    const rendered = renderTemplate('{{ release.tag_name }} {{ pull_request.html_url }}', templateVariables(withText));
    expect(segmentsOf('text' in rendered ? rendered.text : '').map((s) => s.kind)).toEqual(['own']);
  });
});
