/**
 * Opening and saving projects through the host: every opened text goes
 * through parseProject, so a broken or newer file gives a clear message and
 * leaves the current project as it was; graph problems still open, shown on
 * their nodes. What the window has open is remembered for this tab, so a
 * reload opens it again.
 */
import type { StudioClient } from '../../api/studio-api';
import { parseProject } from '../../core/document/load';
import { formatIssue } from '../../core/issues';
import { DEFAULT_NAME, projectText, useStudio } from '../state/store';

/** Loads project text into the editor; false (and a notice) when it cannot be opened. */
export function openProjectText(text: string, path: string | null, source: string): boolean {
  const result = parseProject(text, source);
  const store = useStudio.getState();
  if (!result.ok) {
    store.showNotice({
      kind: 'error',
      title: `${source} could not be opened`,
      lines: result.issues.map(formatIssue),
    });
    return false;
  }
  store.load(result.project, path);
  store.showNotice(null);
  return true;
}

export function confirmDiscard(action: string): boolean {
  if (!useStudio.getState().dirty) return true;
  return window.confirm(`The project has unsaved changes. ${action} anyway and lose them?`);
}

export async function openFromHost(api: StudioClient, path: string): Promise<boolean> {
  const result = await api.openProject(path);
  if (!result.ok) {
    useStudio
      .getState()
      .showNotice({ kind: 'error', title: `${path} could not be opened`, lines: [result.error] });
    return false;
  }
  const opened = openProjectText(result.value.text, result.value.path, result.value.path);
  if (opened) rememberDocument({ kind: 'file', path: result.value.path });
  return opened;
}

export async function openPreset(api: StudioClient, name: string): Promise<boolean> {
  const result = await api.loadPreset(name);
  if (!result.ok) {
    useStudio.getState().showNotice({
      kind: 'error',
      title: `The preset ${name} could not be opened`,
      lines: [result.error],
    });
    return false;
  }
  const opened = openProjectText(result.value.text, null, `preset ${name}`);
  if (opened) rememberDocument({ kind: 'preset', name });
  return opened;
}

/** Starts an empty project (after asking about unsaved changes); false when the user kept the old one. */
export function newProject(): boolean {
  if (!confirmDiscard('Start a new project')) return false;
  useStudio.getState().newProject();
  rememberDocument({ kind: 'new' });
  return true;
}

/** Saves to `path`; returns the error message, or null when saved. */
export async function saveTo(
  api: StudioClient,
  path: string,
  overwrite: boolean,
): Promise<string | null> {
  followFileName(path);
  const { project } = useStudio.getState();
  const result = await api.saveProject(path, projectText(project), overwrite);
  if (!result.ok) return result.error;
  rememberDocument({ kind: 'file', path: result.value.path });
  // Edits made while the save was in flight keep the project dirty.
  if (useStudio.getState().project === project) useStudio.getState().markSaved(result.value.path);
  else useStudio.setState({ path: result.value.path });
  await api.discardRecovery();
  return null;
}

/**
 * A project still called by its default name, or by its file's name, takes
 * the name of the file it is saved as ("Save as my-scratch" names it
 * my-scratch); a name the user chose stays.
 */
function followFileName(path: string): void {
  const { project, path: before } = useStudio.getState();
  const named = project.name !== DEFAULT_NAME && (!before || project.name !== fileStem(before));
  const name = fileStem(path);
  if (named || project.name === name) return;
  useStudio.getState().edit((p) => ({ ...p, name }), 'project-name');
}

/** "my-scratch" for "nets/my-scratch.json". */
export function fileStem(path: string): string {
  return (path.split('/').pop() ?? path).replace(/\.json$/i, '');
}

/** What default names of things made from the project start with (exports, downloads): its file's name, else its own. */
export function documentStem(name: string, path: string | null): string {
  return path ? slug(fileStem(path)) : slug(name);
}

export function downloadProject(): void {
  const { project, path } = useStudio.getState();
  const blob = new Blob([projectText(project)], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `${documentStem(project.name, path)}.json`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

export async function openLocalFile(file: File): Promise<boolean> {
  if (!confirmDiscard(`Open ${file.name}`)) return false;
  const opened = openProjectText(await file.text(), null, file.name);
  // Not a file of the host's: a reload cannot open it again (the autosave keeps edits).
  if (opened) rememberDocument({ kind: 'new' });
  return opened;
}

/** What the window has open, as far as the host can open it again. */
export type OpenDocument =
  | { kind: 'file'; path: string }
  | { kind: 'preset'; name: string }
  | { kind: 'new' };

const DOCUMENT_KEY = 'convnet-studio.document';

function rememberDocument(document: OpenDocument): void {
  try {
    sessionStorage.setItem(DOCUMENT_KEY, JSON.stringify(document));
  } catch {
    // Storage refused (a private window): a reload then starts afresh.
  }
}

/** What this tab had open before a reload, if anything. */
export function rememberedDocument(): OpenDocument | null {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(DOCUMENT_KEY) ?? 'null');
    if (typeof value !== 'object' || value === null || !('kind' in value)) return null;
    const doc = value as OpenDocument;
    if (doc.kind === 'file' && typeof doc.path === 'string') return doc;
    if (doc.kind === 'preset' && typeof doc.name === 'string') return doc;
    return doc.kind === 'new' ? doc : null;
  } catch {
    return null;
  }
}

export function slug(name: string): string {
  return (
    name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-|-$/g, '') || 'untitled'
  );
}

const AUTOSAVE_MS = 3000;

/** Autosaves unsaved work every few seconds so it can be recovered after a crash. Returns a stop function. */
export function startAutosave(api: StudioClient): () => void {
  let last: unknown = null;
  const timer = setInterval(() => {
    const { project, path, dirty } = useStudio.getState();
    if (!dirty || project === last) return;
    last = project;
    void api.autosave(projectText(project), path);
  }, AUTOSAVE_MS);
  return () => clearInterval(timer);
}
