/**
 * The entry point, and the only place that touches the process: it reads the inputs and the
 * environment, registers the secrets with the runner, and hands the rest to run.ts.
 */
import { runContextFromEnv } from './context.js';
import { errorMessage } from './errors.js';
import { runner } from './report/runner-output.js';
import { publisherSecrets } from './publishers/registry.js';
import { run } from './run.js';
import { registerSecret, setSecretMasker } from './secrets.js';
import { parseInputs } from './settings/settings.js';
import { loadYaml } from './io/yaml.js';
import { YAML_INPUTS } from './sources/inline.js';

/** The inputs the workflow gave (`with:`) and the defaults action.yml declares: the runner's INPUT_* variables. */
function givenInputs(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('INPUT_') && name.length > 6)
    .map((name) => name.slice(6).toLowerCase());
}

export async function main(): Promise<void> {
  try {
    setSecretMasker(runner.mask);
    if (YAML_INPUTS.some((name) => runner.input(name) !== '')) await loadYaml();
    const { settings, errors } = parseInputs(runner.input, givenInputs(process.env));
    for (const secret of [...publisherSecrets(settings), settings.githubToken]) registerSecret(secret);
    await run(settings, errors, runContextFromEnv(process.env), { out: runner });
  } catch (error) {
    runner.failed(`letmepost-action stopped unexpectedly: ${errorMessage(error)}`);
  }
}
