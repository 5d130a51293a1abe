/**
 * Exports into folders that hold the user's own files: the studio replaces
 * only what it wrote itself (unchanged since), asks otherwise (--force on the
 * command line, `overwrite` after the dialog's question), and writes a set of
 * files whole or not at all.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExportService } from '../../src/backend/export-service';
import { getPreset } from '../../src/core/presets';
import { cli } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'fault-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('export over the user’s files (command line)', () => {
  const out = join(dir, 'cli');
  it('refuses to replace a file the studio did not write, and writes nothing', () => {
    mkdirSync(out);
    writeFileSync(join(out, 'README.md'), 'my notes');
    const refused = cli('export', 'lenet', '--format', 'pytorch', '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `error: ${out} already holds README.md, which the studio did not write (or which changed since it did); add --force to replace them, or choose another folder`,
    );
    expect(readdirSync(out)).toEqual(['README.md']);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe('my notes');
  });

  it('replaces it with --force, and its own files again without asking', () => {
    expect(cli('export', 'lenet', '--format', 'pytorch', '--out', out, '--force').code).toBe(0);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('(PyTorch)');
    expect(cli('export', 'lenet', '--format', 'pytorch', '--out', out).code).toBe(0);
  });

  it('counts a file the user edited since as theirs', () => {
    writeFileSync(join(out, 'model.py'), '# my changes\n', { flag: 'a' });
    const refused = cli('export', 'lenet', '--format', 'pytorch', '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds model.py, which the studio did not write');
    expect(readFileSync(join(out, 'model.py'), 'utf8')).toContain('# my changes');
  });

  it('import --out is held to the same rule', () => {
    const tfjs = join(dir, 'tfjs');
    expect(cli('export', 'lenet', '--format', 'tfjs', '--out', tfjs).code).toBe(0);
    const target = join(dir, 'imported');
    mkdirSync(target);
    writeFileSync(join(target, 'project.json'), '{"mine": true}');
    const refused = cli('import', join(tfjs, 'model.json'), '--out', target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds project.json');
    expect(readFileSync(join(target, 'project.json'), 'utf8')).toBe('{"mine": true}');
    expect(cli('import', join(tfjs, 'model.json'), '--out', target, '--force').code).toBe(0);
  });
});

describe('export over the user’s files (studio)', () => {
  const workspace = join(dir, 'workspace');
  mkdirSync(join(workspace, 'exports', 'mine'), { recursive: true });
  const service = new ExportService({ projectFolder: workspace });
  const request = {
    target: { project: getPreset('lenet')!.build() },
    weights: { kind: 'initial' as const },
    format: 'onnx' as const,
    folder: 'exports/mine',
  };

  it('marks the user’s file in the plan, refuses without the user’s word, writes with it', async () => {
    writeFileSync(join(workspace, 'exports', 'mine', 'README.md'), 'my notes');
    const plan = await service.exportPlan(request);
    expect(plan.ok && plan.value.files.map((f) => [f.path, f.replaces, f.foreign])).toEqual([
      ['model.onnx', false, false],
      ['README.md', true, true],
    ]);
    const refused = await service.exportModel(request);
    expect(refused).toEqual({
      ok: false,
      error: expect.stringContaining('already holds README.md, which the studio did not write'),
    });
    expect(readdirSync(join(workspace, 'exports', 'mine'))).toEqual(['README.md']);
    expect((await service.exportModel({ ...request, overwrite: true })).ok).toBe(true);
    const again = await service.exportPlan(request);
    expect(again.ok && again.value.files.every((f) => f.replaces && !f.foreign)).toBe(true);
  });
});
