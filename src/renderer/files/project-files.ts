/**
 * Opening and saving projects through the host: every opened text goes
 * through parseProject, so a broken or newer file gives a clear message and
 * leaves the current project as it was; graph problems still open, shown on
 * their nodes.
 */
import type { StudioClient } from '../../api/studio-api';
import { parseProject } from '../../core/document/load';
import { formatIssue } from '../../core/issues';
import { projectText, useStudio } from '../state/store';

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
  return openProjectText(result.value.text, result.value.path, result.value.path);
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
  return openProjectText(result.value.text, null, `preset ${name}`);
}

/** Saves to `path`; returns the error message, or null when saved. */
export async function saveTo(
  api: StudioClient,
  path: string,
  overwrite: boolean,
): Promise<string | null> {
  const { project } = useStudio.getState();
  const result = await api.saveProject(path, projectText(project), overwrite);
  if (!result.ok) return result.error;
  // Edits made while the save was in flight keep the project dirty.
  if (useStudio.getState().project === project) useStudio.getState().markSaved(result.value.path);
  else useStudio.setState({ path: result.value.path });
  await api.discardRecovery();
  return null;
}

export function downloadProject(): void {
  const { project, path } = useStudio.getState();
  const blob = new Blob([projectText(project)], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = path?.split('/').pop() ?? `${slug(project.name)}.json`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

export async function openLocalFile(file: File): Promise<boolean> {
  if (!confirmDiscard(`Open ${file.name}`)) return false;
  return openProjectText(await file.text(), null, file.name);
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
