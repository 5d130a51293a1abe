import { defineConfig } from 'vitest/config';
import { swiftshaderEnv } from './test/support/swiftshader.ts';

// WebGPU tests run on SwiftShader in a project of their own, whose workers start with its environment.

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.gpu.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'webgpu',
          include: ['src/**/*.gpu.test.ts'],
          env: swiftshaderEnv,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
