/** The Node.js versions npm start accepts are the ones package.json declares, with one message for the rest. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module, so that any Node can parse it
import { nodeVersionProblem, SUPPORTED_NODE } from '../../scripts/node-version.mjs';

describe('the Node.js version check', () => {
  it("is package.json's engines field", () => {
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    );
    expect(manifest.engines.node).toBe(SUPPORTED_NODE);
  });

  it.each(['20.19.0', '20.20.2', '22.12.0', '22.20.1', '24.0.0', 'v25.1.0'])(
    'accepts %s',
    (version) => {
      expect(nodeVersionProblem(version)).toBeNull();
    },
  );

  it.each(['18.20.4', '20.18.3', '21.7.3', '22.11.0'])(
    'refuses %s with one message naming it',
    (version) => {
      const problem = nodeVersionProblem(version) as string;
      expect(problem).toContain(
        `needs Node.js 22.12 or later (or 20.19 or later on Node 20); this is Node.js ${version}.`,
      );
      expect(problem).toContain('https://nodejs.org');
    },
  );
});
