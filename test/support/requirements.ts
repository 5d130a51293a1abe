/**
 * System packages some tests need (PyTorch, Chromium, the dataset). Where one
 * is missing a developer sees the suite skipped with what to install; under
 * CI=true a missing package is a failure, never a silent skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { SWIFTSHADER_ICD } from './swiftshader';

export interface Requirement {
  name: string;
  available: boolean;
  install: string;
}

export function check(name: string, install: string, probe: () => boolean): Requirement {
  let available = false;
  try {
    available = probe();
  } catch {
    available = false;
  }
  return { name, available, install };
}

export const PYTHON = '/usr/bin/python3';

export const python = check(`Python 3 (${PYTHON})`, 'sudo apt-get install -y python3', () =>
  existsSync(PYTHON),
);

const pythonImports = (module: string) => () => {
  execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
  return true;
};

export const pytorch = check(
  'PyTorch (python3-torch)',
  'sudo apt-get install -y python3-torch',
  pythonImports('torch'),
);
export const torchvision = check(
  'torchvision (python3-torchvision)',
  'sudo apt-get install -y python3-torchvision',
  pythonImports('torchvision'),
);
export const onnx = check(
  'ONNX checker (python3-onnx)',
  'sudo apt-get install -y python3-onnx',
  pythonImports('onnx'),
);
export const chromium = check(
  'Chromium (/usr/bin/chromium)',
  'sudo apt-get install -y chromium',
  () => existsSync('/usr/bin/chromium'),
);
/** SwiftShader, the CPU Vulkan driver in Debian's chromium package: WebGPU tests run on it (vitest.config.mts). */
export const swiftshader = check(
  `SwiftShader (${SWIFTSHADER_ICD}, from the chromium package)`,
  'sudo apt-get install -y chromium',
  () => existsSync(SWIFTSHADER_ICD),
);
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const fashionMnist = check(
  `Fashion-MNIST (${FASHION_MNIST_DIR})`,
  'sudo apt-get install -y dataset-fashion-mnist',
  () => existsSync(`${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`),
);

/** `describe` that needs system packages: skipped with a reason locally, failing under CI. */
export function describeWith(requirements: Requirement[], title: string, body: () => void): void {
  const missing = requirements.filter((r) => !r.available);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const why = missing.map((r) => `${r.name} is missing; install it with: ${r.install}`).join('; ');
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('has the system packages it needs', () => {
        throw new Error(why);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${why})`, body);
  }
}
