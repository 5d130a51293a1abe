// The renderer built for the web host (`convnet-studio serve`): the same UI as
// Electron's, served over HTTP, talking to the host over a WebSocket.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/renderer',
  base: './',
  plugins: [react()],
  // Always React's production build, even when built from a test run (vitest sets NODE_ENV=test).
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: '../../out/web',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 4000,
  },
});
