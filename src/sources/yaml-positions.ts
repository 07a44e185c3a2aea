/** Where a post field is in its YAML file: file:line:column for every problem. */
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { yaml } from '../io/yaml.js';
import type { FilePosition } from '../errors.js';


type Path = ReadonlyArray<string | number>;

/** Finds the YAML node at a post field path, for file:line:column positions. */
export class Locator {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    readonly lines: LineCounter,
  ) {}

  at(offset: number): FilePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  private deref(node: unknown): YamlNode | undefined {
    if (yaml().isAlias(node)) return (node.resolve(this.doc) as YamlNode | undefined) ?? undefined;
    return (node ?? undefined) as YamlNode | undefined;
  }

  /** The deepest existing node along `path` (the field itself, or its nearest parent), and whether it was found whole. */
  find(path: Path): { node: YamlNode | undefined; key?: YamlNode; found: boolean } {
    const { isMap, isScalar, isSeq } = yaml();
    let node = this.doc.contents as YamlNode | null | undefined;
    let key: YamlNode | undefined;
    for (const seg of path) {
      const current = this.deref(node);
      let next: unknown;
      let nextKey: YamlNode | undefined;
      if (isMap(current)) {
        const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair) {
          next = pair.value;
          nextKey = pair.key as YamlNode;
        }
      } else if (isSeq(current) && typeof seg === 'number') {
        next = current.items[seg];
      }
      if (next === undefined && nextKey === undefined) return { node: node ?? undefined, ...(key ? { key } : {}), found: false };
      // `key:` with no value: point at the key.
      node = (next as YamlNode | null) ?? nextKey;
      key = nextKey;
    }
    return { node: node ?? undefined, ...(key ? { key } : {}), found: true };
  }

  position(path: Path): FilePosition {
    const { node } = this.find(path);
    const start = node?.range?.[0] ?? this.doc.range[0];
    return this.at(start);
  }

  /** The position of a key inside the mapping at `path` (for unknown fields). */
  keyPosition(path: Path, key: string): FilePosition {
    const { node } = this.find(path);
    const { isMap, isScalar } = yaml();
    const map = this.deref(node);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      const range = (pair?.key as YamlNode | undefined)?.range;
      if (range) return this.at(range[0]);
    }
    return this.position(path);
  }

  /** Where the `occurrence`-th copy of `needle` starts inside the source of the node at `path`. */
  textPosition(path: Path, source: string, needle: string, occurrence: number): FilePosition {
    const { node, found } = this.find(path);
    const range = node?.range;
    if (found && range) {
      const slice = source.slice(range[0], range[1]);
      let at = -1;
      for (let k = 0; k <= occurrence; k++) {
        at = slice.indexOf(needle, at + 1);
        if (at < 0) break;
      }
      if (at >= 0) return this.at(range[0] + at);
    }
    return this.position(path);
  }
}

