import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseProject } from '../core/document/load';
import { builtInPresets } from './presets';
import { ProjectService } from './project-service';

let folder: string;
let service: ProjectService;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'studio-projects-'));
  service = new ProjectService({
    host: 'web',
    version: 'test',
    projectFolder: folder,
    stateFolder: path.join(folder, '.state'),
    presets: builtInPresets,
  });
});

describe('project service', () => {
  it('saves atomically, lists, reopens and remembers the file', async () => {
    const text = (await service.loadPreset('lenet')) as { ok: true; value: { text: string } };
    expect(await service.saveProject('nets/lenet.json', text.value.text, false)).toEqual({
      ok: true,
      value: { path: 'nets/lenet.json' },
    });
    expect(await readdir(path.join(folder, 'nets'))).toEqual(['lenet.json']); // no temp file left behind
    const reopened = await service.openProject('nets/lenet.json');
    expect(reopened.ok && parseProject(reopened.value.text).ok).toBe(true);
    expect(await service.recentFiles()).toEqual({ ok: true, value: ['nets/lenet.json'] });
    await writeFile(path.join(folder, 'package.json'), '{"name": "not a project"}');
    const listing = await service.listProjects();
    expect(listing.ok && listing.value.files.map((f) => f.path)).toEqual(['nets/lenet.json']);
  });

  it('refuses to overwrite on Save As, and paths outside the project folder', async () => {
    await writeFile(path.join(folder, 'a.json'), '{}');
    expect(await service.saveProject('a.json', '{"x":1}', false)).toMatchObject({
      ok: false,
      error: expect.stringContaining('already exists'),
    });
    expect(await readFile(path.join(folder, 'a.json'), 'utf8')).toBe('{}');
    expect(await service.openProject('../etc/passwd.json')).toMatchObject({
      ok: false,
      error: expect.stringContaining('outside the project folder'),
    });
    expect(await service.openProject('/etc/hosts')).toMatchObject({ ok: false });
    expect(await service.saveProject('notes.txt', 'x', true)).toMatchObject({
      ok: false,
      error: expect.stringContaining('end in .json'),
    });
    expect(await service.openProject('missing.json')).toEqual({
      ok: false,
      error: 'cannot open missing.json: no such file or folder',
    });
  });

  it('keeps an autosave until it is discarded', async () => {
    expect(await service.recovery()).toEqual({ ok: true, value: null });
    await service.autosave('{"unsaved":true}', 'x.json');
    const recovery = await service.recovery();
    expect(recovery).toMatchObject({
      ok: true,
      value: { text: '{"unsaved":true}', path: 'x.json' },
    });
    await service.discardRecovery();
    expect(await service.recovery()).toEqual({ ok: true, value: null });
  });

  it('names the presets when one is unknown', async () => {
    expect(await service.loadPreset('lenet5')).toMatchObject({
      ok: false,
      error: expect.stringContaining('lenet, alexnet'),
    });
  });
});
