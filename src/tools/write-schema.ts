/** Build step: writes the post-file JSON Schema next to the bundle (`dist/post.schema.json`). */
import { writeFileSync } from 'node:fs';
import { postJsonSchema } from '../model/post.js';

const out = process.argv[2];
if (!out) throw new Error('usage: write-schema <output file>');
writeFileSync(out, `${JSON.stringify(postJsonSchema(), null, 2)}\n`);
