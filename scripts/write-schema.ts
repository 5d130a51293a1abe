/** Regenerates resources/project.schema.json from the zod schema (npm run schema). */
import { writeFileSync } from 'node:fs';
import { projectJsonSchema } from '../src/core/document/schema';

const target = new URL('../resources/project.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(projectJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
