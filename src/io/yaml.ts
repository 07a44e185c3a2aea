/**
 * The YAML parser, loaded only by runs that read YAML — post files, or the `thread`,
 * `targets` and `media` inputs — because it is a third of the entry chunk and a plain inline
 * post needs none of it (start-up, issue 15). Load it with `loadYaml()` where a run may read
 * YAML; `yaml()` then hands it out synchronously to the pure parsing code.
 */
type YamlModule = typeof import('yaml');

let loaded: YamlModule | undefined;

export async function loadYaml(): Promise<YamlModule> {
  loaded ??= await import('yaml');
  return loaded;
}

export function yaml(): YamlModule {
  if (loaded === undefined) throw new Error('internal error: the YAML parser was used before loadYaml()');
  return loaded;
}
