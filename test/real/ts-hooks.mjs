// Module hooks for the PDS child (pds-child.mjs): load the suite's .ts support files on a Node
// without TypeScript support (Node 20, the Node node_modules' better-sqlite3 was built for).
// Type syntax is removed with vite's oxc transform (vite is a devDependency already), which
// also turns parameter properties into plain code — something Node 24's type stripping refuses.
let transform;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !/\.m?ts$/.test(new URL(url).pathname)) return nextLoad(url, context);
  const { source } = await nextLoad(url, { ...context, format: 'module' });
  transform ??= (await import('vite')).transformWithOxc;
  const { code } = await transform(String(source), new URL(url).pathname, { lang: 'ts', sourcemap: false });
  return { format: 'module', source: code, shortCircuit: true };
}
