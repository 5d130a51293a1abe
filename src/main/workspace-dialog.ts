/**
 * The desktop app's first start: where the workspace (projects, runs,
 * exports) goes, asked with the system's own dialogs before the window opens.
 * The user keeps the suggested folder, picks another (the system's folder
 * picker, which can create one), or quits; a folder the studio cannot use is
 * explained and asked again. Written against the two dialog calls it makes,
 * so it is tested with scripted answers.
 */
import type { Dialog, MessageBoxOptions, OpenDialogOptions } from 'electron';

export type WorkspaceDialogs = Pick<Dialog, 'showMessageBox' | 'showOpenDialog'>;

export const USE_SUGGESTED = 0;
export const CHOOSE_ANOTHER = 1;
export const QUIT = 2;

export function firstStartQuestion(suggested: string): MessageBoxOptions {
  return {
    type: 'question',
    title: 'ConvNet Studio',
    message: 'Where should ConvNet Studio keep your work?',
    detail: `Your projects, training runs and exports go into one folder, the workspace. The suggestion is:\n\n${suggested}\n\nYou can start another time in a different one with --workspace.`,
    buttons: ['Use this folder', 'Choose another folder…', 'Quit'],
    defaultId: USE_SUGGESTED,
    cancelId: QUIT,
    noLink: true,
  };
}

export function folderPicker(suggested: string): OpenDialogOptions {
  return {
    title: 'Choose the workspace folder',
    defaultPath: suggested,
    buttonLabel: 'Use as workspace',
    properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
  };
}

/**
 * Asks until the user settles on a folder `problem` accepts (it returns why a
 * folder cannot be the workspace, or null), or quits (null).
 */
export async function askForWorkspace(
  dialogs: WorkspaceDialogs,
  suggested: string,
  problem: (folder: string) => string | null,
): Promise<string | null> {
  for (;;) {
    const { response } = await dialogs.showMessageBox(firstStartQuestion(suggested));
    if (response !== USE_SUGGESTED && response !== CHOOSE_ANOTHER) return null;
    let folder = suggested;
    if (response === CHOOSE_ANOTHER) {
      const picked = await dialogs.showOpenDialog(folderPicker(suggested));
      if (picked.canceled || picked.filePaths.length === 0) continue;
      folder = picked.filePaths[0];
    }
    const why = problem(folder);
    if (why === null) return folder;
    await dialogs.showMessageBox({
      type: 'error',
      title: 'ConvNet Studio',
      message: `${folder} cannot be the workspace.`,
      detail: why,
      buttons: ['Choose again'],
    });
  }
}
