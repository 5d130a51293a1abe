/**
 * Electron's main process: one window on the renderer, served from
 * app://studio/ (renderer-protocol.ts) and locked down (window.ts, guards.ts),
 * and the StudioApi over IPC (ipc.ts). Every decision lives in those modules
 * as a plain function; this file only wires them to Electron.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import type { HostInfo } from '../api/project-api';
import type { StudioPush } from '../api/studio-api';
import { createStudioBackend } from '../backend';
import { getPreset } from '../core/presets';
import { findShippedFile } from '../node/shipped-files';
import {
  chooseWorkspace,
  defaultWorkspace,
  hasSavedWorkspace,
  openWorkspace,
  saveWorkspaceChoice,
} from '../node/workspace';
import { guardWebContents, refusePermissions } from './guards';
import { PUSH_CHANNEL, serveApi } from './ipc';
import { developmentServerUrl, isStudioUrl } from './origins';
import {
  STUDIO_ENTRY_URL,
  STUDIO_SCHEME,
  STUDIO_SCHEME_PRIVILEGES,
  serveRendererRequest,
} from './renderer-protocol';
import { studioWindowOptions, WINDOW_READY_LINE } from './window';
import { askForWorkspace } from './workspace-dialog';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererRoot = path.join(here, '../renderer');
const devServer = developmentServerUrl({
  development: import.meta.env.DEV,
  packaged: app.isPackaged,
  rendererUrl: process.env.ELECTRON_RENDERER_URL,
});
const isStudioPage = (url: string | undefined) => isStudioUrl(url, devServer);

let mainWindow: BrowserWindow | null = null;

/** The value after a command-line option (`--workspace DIR`), if given. */
function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Why a folder cannot be the workspace (openWorkspace creates it or says why not), or null. */
function workspaceProblem(folder: string): string | null {
  try {
    openWorkspace(folder, app.getAppPath());
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * On the first start (no workspace saved, none given with --workspace) the
 * user chooses it in the system's dialogs, and the choice is saved. False
 * when the user quit instead.
 */
async function firstStartWorkspace(): Promise<boolean> {
  const stateFolder = app.getPath('userData');
  if (argument('--workspace') || hasSavedWorkspace(stateFolder)) return true;
  const suggested = defaultWorkspace(app.getPath('documents'));
  const chosen = await askForWorkspace(dialog, suggested, workspaceProblem);
  if (chosen === null) return false;
  await saveWorkspaceChoice(stateFolder, chosen);
  return true;
}

/**
 * `--project FILE|PRESET`, `--workspace FOLDER` and `--data-dir DIR`, as the
 * web host takes them. The workspace is the one chosen before (settings.json
 * in the user-data folder) unless --workspace names another; see
 * src/node/workspace.ts.
 */
function startupOptions(): {
  startup: HostInfo['startup'];
  projectFolder: string;
  dataDir?: string;
} {
  const { folder } = chooseWorkspace({
    flag: argument('--workspace'),
    stateFolder: app.getPath('userData'),
    documents: app.getPath('documents'),
  });
  const projectFolder = openWorkspace(folder, app.getAppPath());
  const dataDir = argument('--data-dir');
  const project = argument('--project');
  if (!project) return { startup: { kind: 'new' }, projectFolder, dataDir };
  if (getPreset(project))
    return { startup: { kind: 'preset', name: project }, projectFolder, dataDir };
  const file = path.resolve(project);
  return {
    startup: { kind: 'file', path: path.basename(file) },
    projectFolder: path.dirname(file),
    dataDir,
  };
}

function createWindow(): void {
  mainWindow = new BrowserWindow(
    studioWindowOptions({
      preload: path.join(here, '../preload/index.cjs'),
      icon: findShippedFile('resources/icon.png'),
    }),
  );
  mainWindow.once('ready-to-show', () => {
    mainWindow?.show();
    console.log(WINDOW_READY_LINE);
  });
  // The page asks before unsaved work is lost; Electron needs the question asked natively.
  mainWindow.webContents.on('will-prevent-unload', (event) => {
    const choice = dialog.showMessageBoxSync(mainWindow!, {
      type: 'question',
      buttons: ['Discard changes', 'Cancel'],
      defaultId: 1,
      cancelId: 1,
      message: 'The project has unsaved changes.',
      detail: 'Close the window and lose them?',
    });
    if (choice === 0) event.preventDefault();
  });
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  void mainWindow.loadURL(devServer ?? STUDIO_ENTRY_URL);
}

// Before the app is ready: the scheme's privileges, and the guards on every web page it makes.
protocol.registerSchemesAsPrivileged([STUDIO_SCHEME_PRIVILEGES]);
app.on('web-contents-created', (_event, contents) => guardWebContents(contents, isStudioPage));

app.whenReady().then(async () => {
  protocol.handle(STUDIO_SCHEME, (request) => serveRendererRequest(request, rendererRoot));
  refusePermissions(session.defaultSession);
  if (!(await firstStartWorkspace())) {
    app.quit();
    return;
  }
  let options: ReturnType<typeof startupOptions>;
  try {
    options = startupOptions();
  } catch (err) {
    // A workspace that cannot be opened: said in a dialog, since there is no window yet.
    dialog.showErrorBox('ConvNet Studio cannot start', (err as Error).message);
    app.exit(1);
    return;
  }
  const { startup, projectFolder, dataDir } = options;
  const api = createStudioBackend({
    host: 'electron',
    version: app.getVersion(),
    projectFolder,
    stateFolder: app.getPath('userData'),
    startup,
    dataDir: dataDir ? path.resolve(dataDir) : undefined,
    push: (event: StudioPush) => mainWindow?.webContents.send(PUSH_CHANNEL, event),
  });
  serveApi(ipcMain, api, isStudioPage);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (os.platform() !== 'darwin') app.quit();
});
