/**
 * For the scripts that load the suite's TypeScript helpers with Node itself (no vitest): the
 * helpers import each other as './x.js', TypeScript's convention, and Node's own type
 * stripping does not map that to x.ts. Importing this module first makes a relative './x.js'
 * that does not exist resolve to './x.ts'. Needs Node >= 22.15 (module.registerHooks).
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!/^\.\.?\/.*\.js$/.test(specifier)) throw error;
      return nextResolve(specifier.replace(/\.js$/, '.ts'), context);
    }
  },
});
