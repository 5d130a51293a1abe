/**
 * The web host serves the renderer built by vite.web.config.mts into out/web.
 * It is rebuilt when missing or older than the sources it is made from, so a
 * checkout always serves what it holds.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const webRendererDir = path.join(repoRoot, 'out', 'web');
const sourceDirs = ['src/renderer', 'src/core', 'src/api', 'src/engine'].map((d) =>
  path.join(repoRoot, d),
);

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(full));
    else if (!entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, (await stat(full)).mtimeMs);
  }
  return newest;
}

export async function rendererIsStale(): Promise<boolean> {
  const built = await stat(path.join(webRendererDir, 'index.html')).catch(() => null);
  if (!built) return true;
  const newest = Math.max(...(await Promise.all(sourceDirs.map(newestSource))));
  return newest > built.mtimeMs;
}

/** Builds the renderer with Vite if needed; `log` says what is happening (a build takes a few seconds). */
export async function ensureRendererBuilt(log: (line: string) => void): Promise<void> {
  if (!(await rendererIsStale())) return;
  log('Building the studio UI (vite build)…');
  const { build } = await import('vite');
  // A production bundle whatever NODE_ENV says (vitest sets 'test', and React's JSX
  // transform would then emit development calls the production runtime lacks).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(repoRoot, 'vite.web.config.mts'), logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}
