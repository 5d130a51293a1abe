// Electron build: main (ESM), preload (CommonJS, as sandboxed preloads must be) and the renderer.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      // The training worker is its own entry: src/engine/job.ts starts ./worker.js next to the bundle.
      rollupOptions: { input: { index: 'src/main/index.ts', worker: 'src/engine/worker.ts' } },
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
    plugins: [react()],
    build: {
      chunkSizeWarningLimit: 4000,
      rollupOptions: { input: { index: 'src/renderer/index.html' } },
    },
  },
});
