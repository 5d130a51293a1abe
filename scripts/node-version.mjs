// The Node.js versions the studio's tools run on (npm start, the command line, the web host,
// the build and the tests), as package.json's "engines" declares them: those of Vite,
// electron-vite and rolldown. Plain JavaScript that any Node parses, so an old Node gets
// this one message instead of a syntax error or a page of warnings. The desktop app itself
// runs on the Node inside Electron.
// `node scripts/node-version.mjs` checks this Node (CI runs it first).
import { fileURLToPath } from 'node:url';

export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/** Why this Node cannot run the studio, or null when it can. */
export function nodeVersionProblem(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  if ((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23) return null;
  return (
    `ConvNet Studio needs Node.js 22.12 or later (or 20.19 or later on Node 20); this is Node.js ${version}.\n` +
    'Install the current LTS release from https://nodejs.org (or with a version manager: nvm install --lts),\n' +
    'then run npm ci and npm start again.'
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  console.log(`Node.js ${process.versions.node} satisfies ${SUPPORTED_NODE}.`);
}
