/**
 * The README's inputs and outputs tables, generated from action.yml so the two never drift.
 * `npm run readme` rewrites them in place; a test fails when the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

interface ActionYaml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ').trim();

export function renderTables(actionYml: string): { inputs: string; outputs: string } {
  const action = parse(actionYml) as ActionYaml;
  const inputs = [
    '| Input | Default | Description |',
    '|---|---|---|',
    ...Object.entries(action.inputs).map(([name, i]) => `| \`${name}\` | ${i.default !== undefined ? `\`${escape(String(i.default))}\`` : ''} | ${escape(i.description)} |`),
  ].join('\n');
  const outputs = ['| Output | Description |', '|---|---|', ...Object.entries(action.outputs).map(([name, o]) => `| \`${name}\` | ${escape(o.description)} |`)].join('\n');
  return { inputs, outputs };
}

/** Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README has no ${start} … ${end} section`);
  return `${doc.slice(0, from + start.length)}\n${body}\n${doc.slice(to)}`;
}

export function updateReadme(readme: string, actionYml: string): string {
  const tables = renderTables(actionYml);
  return replaceSection(replaceSection(readme, 'inputs', tables.inputs), 'outputs', tables.outputs);
}

if (/readme-tables\.[jt]s$/.test(process.argv[1] ?? '')) {
  const [readmePath = 'README.md', actionPath = 'action.yml'] = process.argv.slice(2);
  writeFileSync(readmePath, updateReadme(readFileSync(readmePath, 'utf8'), readFileSync(actionPath, 'utf8')));
}
