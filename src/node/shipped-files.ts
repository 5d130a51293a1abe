/**
 * Files the engine ships beside its code (the bundled sample dataset, the
 * plot's font, the PyTorch scripts of `bench --pytorch`), named by their path
 * in the repository. They are found from the sources, in a packaged app's
 * resources folder, or, for a single-file bundle (scripts/gpu-bench.sh) that
 * runs from the repository root, from the working directory. Node only.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where a shipped file may be, in the order looked at. */
export function shippedFileCandidates(fromRepoRoot: string): string[] {
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  const inResources = fromRepoRoot.startsWith('resources/')
    ? fromRepoRoot.slice('resources/'.length)
    : undefined;
  return [
    ...new Set([
      path.join(REPO_ROOT, fromRepoRoot),
      ...(resourcesPath && inResources ? [path.join(resourcesPath, inResources)] : []),
      path.resolve(fromRepoRoot),
    ]),
  ];
}

/** The first place a shipped file (or folder) exists, if any. */
export function findShippedFile(fromRepoRoot: string): string | undefined {
  return shippedFileCandidates(fromRepoRoot).find((candidate) => existsSync(candidate));
}
