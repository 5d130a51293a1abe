/** The first start's workspace question, answered by a script standing in for the user. */
import type { MessageBoxOptions, OpenDialogOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import {
  askForWorkspace,
  CHOOSE_ANOTHER,
  QUIT,
  USE_SUGGESTED,
  type WorkspaceDialogs,
} from './workspace-dialog';

const suggested = '/home/ada/Documents/ConvNet Studio';

/** Dialogs that answer from a script and record what they were asked. */
function scripted(answers: (number | string[] | null)[]) {
  const asked: (MessageBoxOptions | OpenDialogOptions)[] = [];
  const next = () => {
    if (answers.length === 0) throw new Error('asked more than the script answers');
    return answers.shift();
  };
  const dialogs = {
    showMessageBox: async (options: MessageBoxOptions) => {
      asked.push(options);
      return { response: next() as number, checkboxChecked: false };
    },
    showOpenDialog: async (options: OpenDialogOptions) => {
      asked.push(options);
      const paths = next() as string[] | null;
      return { canceled: paths === null, filePaths: paths ?? [] };
    },
  } as unknown as WorkspaceDialogs;
  return { dialogs, asked };
}

const accept = () => null;

describe('the first start: choosing the workspace', () => {
  it('keeps the suggested folder, named in the question', async () => {
    const { dialogs, asked } = scripted([USE_SUGGESTED]);
    expect(await askForWorkspace(dialogs, suggested, accept)).toBe(suggested);
    expect((asked[0] as MessageBoxOptions).detail).toContain(suggested);
  });

  it("takes the folder picked in the system's folder dialog, which can create one", async () => {
    const { dialogs, asked } = scripted([CHOOSE_ANOTHER, ['/data/studio']]);
    expect(await askForWorkspace(dialogs, suggested, accept)).toBe('/data/studio');
    expect(asked[1]).toMatchObject({
      defaultPath: suggested,
      properties: expect.arrayContaining(['openDirectory', 'createDirectory']),
    });
  });

  it('asks again after the folder dialog is cancelled', async () => {
    const { dialogs } = scripted([CHOOSE_ANOTHER, null, USE_SUGGESTED]);
    expect(await askForWorkspace(dialogs, suggested, accept)).toBe(suggested);
  });

  it('explains a folder that cannot be the workspace, and asks again', async () => {
    const { dialogs, asked } = scripted([
      CHOOSE_ANOTHER,
      ['/opt/studio'],
      0,
      CHOOSE_ANOTHER,
      ['/data/studio'],
    ]);
    const problem = (folder: string) =>
      folder === '/opt/studio' ? "it is the studio's own folder" : null;
    expect(await askForWorkspace(dialogs, suggested, problem)).toBe('/data/studio');
    expect(asked[2]).toMatchObject({
      type: 'error',
      message: '/opt/studio cannot be the workspace.',
      detail: "it is the studio's own folder",
    });
  });

  it('quits when the user quits or closes the question', async () => {
    expect(await askForWorkspace(scripted([QUIT]).dialogs, suggested, accept)).toBeNull();
  });
});
