import { mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
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
    // A recent file that is no longer inside the workspace (a link changed) is left out.
    await writeFile(
      path.join(folder, '.state', 'recent.json'),
      JSON.stringify(['../elsewhere.json', 'nets/lenet.json']),
    );
    expect(await service.recentFiles()).toEqual({ ok: true, value: ['nets/lenet.json'] });
    await writeFile(path.join(folder, 'package.json'), '{"name": "not a project"}');
    const listing = await service.listProjects();
    expect(listing.ok && listing.value.files.map((f) => f.path)).toEqual(['nets/lenet.json']);
  });

  it('refuses to overwrite on Save As, and paths outside the workspace', async () => {
    const lenet = builtInPresets.text('lenet');
    await service.saveProject('a.json', lenet, false);
    expect(
      await service.saveProject('a.json', lenet.replace('LeNet', 'Other'), false),
    ).toMatchObject({
      ok: false,
      error: expect.stringContaining('already exists'),
    });
    expect(await readFile(path.join(folder, 'a.json'), 'utf8')).toBe(lenet);
    expect(await service.openProject('../etc/passwd.json')).toMatchObject({
      ok: false,
      error: expect.stringContaining('is outside the workspace'),
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

  it('saves projects only: never over other files, into hidden folders, or text that is no project', async () => {
    const lenet = builtInPresets.text('lenet');
    await writeFile(path.join(folder, 'package.json'), '{"name": "code"}');
    for (const overwrite of [false, true]) {
      expect(await service.saveProject('package.json', lenet, overwrite)).toMatchObject({
        ok: false,
        error:
          'package.json exists and is not a ConvNet Studio project; the studio overwrites only its own project files, so choose another name',
      });
    }
    expect(await readFile(path.join(folder, 'package.json'), 'utf8')).toBe('{"name": "code"}');
    expect(await service.saveProject('.vscode/settings.json', lenet, true)).toMatchObject({
      ok: false,
      error: expect.stringContaining('hidden'),
    });
    expect(await service.saveProject('x.json', '{"editor.fontSize": 40}', true)).toMatchObject({
      ok: false,
      error: expect.stringContaining('is not a ConvNet Studio project'),
    });
    expect(await readdir(folder)).toEqual(['package.json']);
  });

  it('refuses links that lead out of the workspace, and follows those that stay in it', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'studio-outside-'));
    const lenet = builtInPresets.text('lenet');
    await writeFile(path.join(outside, 'secret.json'), lenet);
    await symlink(path.join(outside, 'secret.json'), path.join(folder, 'linked.json'));
    await symlink(outside, path.join(folder, 'elsewhere'));
    for (const linked of ['linked.json', 'elsewhere/secret.json']) {
      expect(await service.openProject(linked)).toMatchObject({
        ok: false,
        error: expect.stringContaining(`'${linked}' leads outside the workspace`),
      });
      expect(await service.saveProject(linked, lenet, true)).toMatchObject({ ok: false });
    }
    expect(await service.saveProject('elsewhere/new.json', lenet, false)).toMatchObject({
      ok: false,
    });
    expect(await readdir(outside)).toEqual(['secret.json']);
    const listing = await service.listProjects();
    expect(listing.ok && listing.value.files).toEqual([]);
    // A link to nowhere cannot be checked, so it is refused.
    await symlink(path.join(outside, 'gone.json'), path.join(folder, 'dangling.json'));
    expect(await service.saveProject('dangling.json', lenet, true)).toMatchObject({
      ok: false,
      error: expect.stringContaining('goes through a link to something that does not exist'),
    });
    // Inside the workspace a link is an ordinary path.
    await mkdir(path.join(folder, 'nets'));
    await symlink(path.join(folder, 'nets'), path.join(folder, 'shortcut'));
    expect(await service.saveProject('shortcut/lenet.json', lenet, false)).toEqual({
      ok: true,
      value: { path: 'nets/lenet.json' },
    });
  });

  it('refuses project files larger than 4 MiB before reading them', async () => {
    await writeFile(path.join(folder, 'huge.json'), Buffer.alloc(5 * 1024 * 1024, 32));
    expect(await service.openProject('huge.json')).toEqual({
      ok: false,
      error: 'cannot open huge.json: it is 5.0 MiB, more than a project file may be (4.0 MiB)',
    });
  });

  it('keeps the autosave and recent files readable by the user alone', async () => {
    await service.autosave('{"unsaved":true}', null);
    await service.saveProject('a.json', builtInPresets.text('lenet'), false);
    for (const file of ['autosave.json', 'recent.json']) {
      expect((await stat(path.join(folder, '.state', file))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(path.join(folder, '.state'))).mode & 0o777).toBe(0o700);
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
