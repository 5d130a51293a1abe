/**
 * Hostile project names in generated code: each PyTorch export is imported by
 * real Python, which must find the name as the docstring, and nothing in the
 * name may run (no file appears). The READMEs keep the name on its heading line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../src/core/presets/index';
import { buildExport, prepareExport } from '../../src/exporters/index';
import { writeBundle } from '../../src/exporters/node-io';
import { describeWith, PYTHON, pytorch } from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';

const dir = mkdtempSync(join(tmpdir(), 'fault-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PROOF = join(dir, 'PWNED');

/** Names that would end the docstring, the line or the Markdown heading if pasted as they are. */
const HOSTILE_NAMES = [
  `"""\nimport os; open(${JSON.stringify(PROOF)}, "w")\n"""`,
  `x"""; __import__("os").system("touch ${PROOF}"); """`,
  `ends with a backslash \\`,
  `ends with a quote "`,
  `\\"""; open(${JSON.stringify(PROOF)}, "w") #`,
  `carriage\rreturn open(${JSON.stringify(PROOF)}, "w")`,
  `nul\u0000byte and line\u2028separator`,
  `<img src=x onerror=alert(1)> [link](javascript:alert(1)) # | *`,
  `Ünïcödé 网络 🧠`,
];

const exports = HOSTILE_NAMES.map((name, i) => ({ name, folder: join(dir, `export-${i}`) }));

beforeAll(async () => {
  const tf = await cpuTf();
  for (const { name, folder } of exports) {
    const project = { ...getPreset('lenet')!.build(), name };
    const { input } = prepareExport(tf, project);
    for (const format of ['pytorch', 'onnx', 'tfjs'] as const) {
      writeBundle(buildExport(format, input), join(folder, format));
    }
  }
});

describe('hostile project names in generated text', () => {
  it('keep every README heading one line that shows the name and makes no HTML or link', () => {
    for (const { folder } of exports) {
      for (const format of ['pytorch', 'onnx', 'tfjs']) {
        const readme = readFileSync(join(folder, format, 'README.md'), 'utf8');
        const heading = readme.split('\n')[0];
        expect(heading).toMatch(/^# .* \((PyTorch|ONNX|TensorFlow\.js Layers)\)$/);
        expect(heading).not.toMatch(/(^|[^\\])[<[]/);
        expect(readme.split('\n')[1]).toBe('');
      }
    }
  });

  it('keep model.json valid JSON', () => {
    for (const { folder } of exports) {
      expect(() =>
        JSON.parse(readFileSync(join(folder, 'tfjs', 'model.json'), 'utf8')),
      ).not.toThrow();
    }
  });
});

describeWith([pytorch], 'hostile project names in model.py, run by Python', () => {
  it('become the docstring as typed, and nothing in them runs', () => {
    const script = `
import importlib, json, sys
names = json.loads(sys.stdin.read())
for i, name in enumerate(names):
    sys.path.insert(0, f"export-{i}/pytorch")
    for loaded in ("model", "weights_io"):
        sys.modules.pop(loaded, None)
    module = importlib.import_module("model")
    assert module.__doc__.startswith(name + ", exported from ConvNet Studio."), (i, module.__doc__[:80])
    module.build_model()
    sys.path.pop(0)
print("ok", len(names))
`;
    const out = execFileSync(PYTHON, ['-c', script], {
      cwd: dir,
      input: JSON.stringify(HOSTILE_NAMES),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(out.trim()).toBe(`ok ${HOSTILE_NAMES.length}`);
    expect(existsSync(PROOF)).toBe(false);
  });
});
