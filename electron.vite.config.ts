// Electron build: main (ESM), preload (CommonJS, as sandboxed preloads must be) and the renderer.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

/**
 * The development server injects an inline script (React Refresh), which the
 * page's Content-Security-Policy forbids; allow inline scripts in `npm run dev`
 * only. Built apps keep the strict policy.
 */
function devScriptPolicy(): Plugin {
  return {
    name: 'dev-script-policy',
    apply: 'serve',
    transformIndexHtml: (html) =>
      html.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
  };
}

export default defineConfig({
  main: {
    build: {
      // The workers are entries of their own, started from next to the bundle: src/engine/job.ts
      // starts ./worker.js (training), src/exporters/export-in-worker.ts ./export-worker.js,
      // src/backend/evaluation-service.ts ./evaluation-worker.js.
      rollupOptions: {
        input: {
          index: 'src/main/index.ts',
          worker: 'src/engine/worker.ts',
          'export-worker': 'src/exporters/export-worker.ts',
          'evaluation-worker': 'src/backend/evaluation-worker.ts',
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot require packages: bundle everything it uses.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: 'src/preload/index.ts' },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [react(), devScriptPolicy()],
    build: {
      chunkSizeWarningLimit: 4000,
      rollupOptions: { input: { index: 'src/renderer/index.html' } },
    },
  },
});
