/** Open and Save As, on the host's project folder (paths relative to it), plus upload from this computer. */
import { useEffect, useRef, useState } from 'react';
import type { ProjectListing } from '../../api/project-api';
import { useApi } from '../api/context';
import { useStudio } from '../state/store';
import { confirmDiscard, documentStem, openFromHost, openLocalFile, saveTo } from './project-files';
import { RecentFiles } from './RecentFiles';

export function FileDialog({ mode, onClose }: { mode: 'open' | 'saveAs'; onClose(): void }) {
  const api = useApi();
  const [listing, setListing] = useState<ProjectListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const currentPath = useStudio((s) => s.path);
  const projectName = useStudio((s) => s.project.name);
  const [name, setName] = useState(currentPath ?? `${documentStem(projectName, null)}.json`);
  const upload = useRef<HTMLInputElement>(null);

  useEffect(() => {
    void api.listProjects().then((r) => (r.ok ? setListing(r.value) : setError(r.error)));
  }, [api]);

  const open = async (path: string) => {
    if (!confirmDiscard(`Open ${path}`)) return;
    if (await openFromHost(api, path)) onClose();
    else onClose(); // the notice explains what went wrong
  };

  const save = async (overwrite: boolean) => {
    const path = name.trim().endsWith('.json') ? name.trim() : `${name.trim()}.json`;
    const problem = await saveTo(api, path, overwrite);
    if (problem === null) onClose();
    else if (
      !overwrite &&
      problem.includes('already exists') &&
      window.confirm(`${path} exists. Replace it?`)
    )
      await save(true);
    else setError(problem);
  };

  const files = listing?.files ?? [];
  return (
    <div
      className="modal-backdrop"
      role="dialog"
      aria-modal="true"
      aria-label={mode === 'open' ? 'Open project' : 'Save project as'}
    >
      <div className="modal file-dialog">
        <header className="modal-head">
          <h2>{mode === 'open' ? 'Open project' : 'Save project as'}</h2>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        </header>
        <p className="muted">Project folder: {listing?.folder ?? '…'}</p>
        {mode === 'saveAs' && (
          <form
            className="save-row"
            onSubmit={(e) => {
              e.preventDefault();
              void save(false);
            }}
          >
            <input
              type="text"
              value={name}
              onChange={(e) => setName(e.target.value)}
              aria-label="File name"
              data-testid="save-name"
            />
            <button type="submit" className="button primary" disabled={!name.trim()}>
              Save
            </button>
          </form>
        )}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        {mode === 'open' && <RecentFiles onOpen={(path) => void open(path)} />}
        <section>
          <h3>{mode === 'open' ? 'Projects in the folder' : 'Existing projects'}</h3>
          {files.length === 0 ? (
            <p className="muted">No project files here yet.</p>
          ) : (
            <ul className="file-list">
              {files.map((f) => (
                <li key={f.path}>
                  <button
                    type="button"
                    className="link"
                    onClick={() => (mode === 'open' ? void open(f.path) : setName(f.path))}
                    data-testid={`file-${f.path}`}
                  >
                    {f.path}
                  </button>
                  <span className="muted"> {new Date(f.modified).toLocaleString()}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        {mode === 'open' && (
          <footer>
            <button type="button" className="button" onClick={() => upload.current?.click()}>
              Upload from this computer…
            </button>
            <input
              ref={upload}
              type="file"
              accept=".json,application/json"
              hidden
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void openLocalFile(file).then(onClose);
              }}
            />
          </footer>
        )}
      </div>
    </div>
  );
}
