// `npm start`: the studio as a desktop app wherever it can run, otherwise the same studio served
// to a browser, saying why (scripts/launch/choose-host.ts). It opens the LeNet preset, with the
// bundled sample data offered to training. `npm start -- --web` asks for the browser; other
// arguments go to the app or to `convnet-studio serve` (e.g. --port 8080).
import { nodeVersionProblem } from './node-version.mjs';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
let tsx;
try {
  tsx = await import('tsx/esm/api');
} catch {
  console.error("The studio's packages are not installed here: run npm ci first, then npm start.");
  process.exit(1);
}
tsx.register();
await import('./launch/start-studio.ts');
