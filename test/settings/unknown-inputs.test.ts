/**
 * GitHub passes every `with:` key to the action and only warns about one it does not declare:
 * a misspelt `schedule-at` would post at once what was meant for later. So an input this
 * action never reads is an error naming it, with the input it most likely meant.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DECLARED_INPUTS } from '../../src/settings/input-names.js';
import { parseInputs } from '../../src/settings/settings.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const declared = Object.keys((parseYaml(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs);
const BASE = { text: 'Hello', platform: 'bluesky', 'account-id': '1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'letmepost-token': 'lmp_x' };

function parseGiven(inputs: Record<string, string>) {
  return parseInputs((name) => inputs[name] ?? '', Object.keys(inputs));
}

describe('inputs the action does not have', () => {
  it('the action knows the inputs action.yml declares, all of them and no others', () => {
    expect([...DECLARED_INPUTS], 'src/settings/input-names.ts lists the inputs of action.yml, in its order').toEqual(declared);
    const { errors } = parseInputs(() => '', declared);
    expect(errors.filter((e) => e.message.includes('is not an input'))).toEqual([]);
  });

  it.each([
    ['schedule-at', "did you mean 'scheduled-at'?"],
    ['bluesky-app-pasword', "did you mean 'bluesky-app-password'?"],
    ['text-twitter', "did you mean 'text-x'?"],
    ['dry_run', "did you mean 'dry-run'?"],
    ['colour-scheme', 'see the inputs table in the README (or action.yml) for the inputs there are'],
  ])('%s is refused, naming it: %s', (name, fix) => {
    const { errors } = parseGiven({ ...BASE, [name]: 'x' });
    expect(errors.map((e) => [e.input, e.message])).toEqual([[name, `Input '${name}' is not an input of this action, so nothing reads it; ${fix}`]]);
  });

  it('several at once are all reported', () => {
    const { errors } = parseGiven({ ...BASE, 'schedule-at': 'x', 'text-twitter': 'y' });
    expect(errors.map((e) => e.input)).toEqual(['schedule-at', 'text-twitter']);
  });
});
