import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseWorkspace, defaultWorkspace, openWorkspace, saveWorkspaceChoice } from './workspace';

const top = mkdtempSync(path.join(tmpdir(), 'workspace-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const state = path.join(top, 'state');
const documents = path.join(top, 'Documents');

describe('the workspace', () => {
  it('is the flag, else the saved choice, else Documents/ConvNet Studio', async () => {
    expect(chooseWorkspace({ stateFolder: state, documents })).toEqual({
      folder: path.join(documents, 'ConvNet Studio'),
      source: 'default',
    });
    expect(defaultWorkspace(documents)).toBe(path.join(documents, 'ConvNet Studio'));
    await saveWorkspaceChoice(state, path.join(top, 'chosen'));
    expect(chooseWorkspace({ stateFolder: state, documents })).toEqual({
      folder: path.join(top, 'chosen'),
      source: 'settings',
    });
    expect(chooseWorkspace({ flag: path.join(top, 'flag'), stateFolder: state })).toEqual({
      folder: path.join(top, 'flag'),
      source: 'flag',
    });
  });

  it('keeps the saved choice readable by the user alone', () => {
    expect(statSync(path.join(state, 'settings.json')).mode & 0o777).toBe(0o600);
  });

  it('is created when first needed, and never the program’s own folder', () => {
    const folder = path.join(top, 'new', 'workspace');
    expect(openWorkspace(folder, top)).toBe(folder);
    expect(statSync(folder).isDirectory()).toBe(true);
    expect(() => openWorkspace(top, top)).toThrow(/cannot be the studio's own folder/);
  });
});
