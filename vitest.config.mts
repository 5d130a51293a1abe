import { defineConfig } from 'vitest/config';

/**
 * WebGPU tests run on SwiftShader, the CPU Vulkan driver Debian's chromium
 * package ships. Dawn finds it through these variables, and the loader path
 * must be set before the process starts: so they run as a project of their
 * own, whose workers are started with this environment.
 */
const SWIFTSHADER = '/usr/lib/chromium';
const swiftshaderEnv = {
  XDG_RUNTIME_DIR: '/tmp',
  VK_DRIVER_FILES: `${SWIFTSHADER}/vk_swiftshader_icd.json`,
  LD_LIBRARY_PATH: [SWIFTSHADER, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
};

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
