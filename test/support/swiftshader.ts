/**
 * SwiftShader, the CPU Vulkan driver Debian's chromium package ships: Dawn
 * finds it through these variables. The loader path must be set before a
 * process starts, so the WebGPU tests start their processes with them (the
 * vitest project `webgpu`, the web host of the WebGPU end-to-end test).
 */
export const SWIFTSHADER_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${SWIFTSHADER_DIR}/vk_swiftshader_icd.json`;

export const swiftshaderEnv: Record<string, string> = {
  XDG_RUNTIME_DIR: '/tmp',
  VK_DRIVER_FILES: SWIFTSHADER_ICD,
  LD_LIBRARY_PATH: [SWIFTSHADER_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
};
