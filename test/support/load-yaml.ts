// The YAML parser is loaded on demand by the action (src/io/yaml.ts: main.ts and loadPostFiles
// load it before use); tests that call the parsing code directly get it loaded here, once.
import { loadYaml } from '../../src/io/yaml.js';

await loadYaml();
