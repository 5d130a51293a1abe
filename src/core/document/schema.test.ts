import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { projectJsonSchema } from './schema';

describe('published JSON Schema', () => {
  it('is current with the zod schema (regenerate with npm run schema)', () => {
    const published = JSON.parse(
      readFileSync(new URL('../../../resources/project.schema.json', import.meta.url), 'utf8'),
    );
    expect(published).toEqual(JSON.parse(JSON.stringify(projectJsonSchema())));
  });
});
