/**
 * What a new studio shows first (no project given to the host, nothing open
 * in this tab before): LeNet is open behind it, ready to train; the page
 * offers recent files, the presets, a new empty project and Open.
 */
import { useApi } from '../api/context';
import { useStudio } from '../state/store';
import { PresetGrid } from './PresetGallery';
import { newProject, openFromHost } from './project-files';
import { RecentFiles } from './RecentFiles';

export function StartPage({ onClose, onOpen }: { onClose(): void; onOpen(): void }) {
  const api = useApi();
  const title = useStudio((s) => s.project.name);
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label="Start">
      <div className="modal start-page">
        <header className="modal-head">
          <h2>Welcome to ConvNet Studio</h2>
          <button type="button" className="button primary" onClick={onClose}>
            Continue with {title}
          </button>
        </header>
        <p className="muted">
          {title} is open behind this page, ready to train: press Continue, then Train. Or start
          from somewhere else:
        </p>
        <RecentFiles
          limit={6}
          onOpen={async (path) => {
            if (await openFromHost(api, path)) onClose();
          }}
        />
        <section>
          <h3>A classic network of the course</h3>
          <PresetGrid onOpened={onClose} />
        </section>
        <footer className="dialog-buttons">
          <button
            type="button"
            className="button"
            onClick={() => {
              if (newProject()) onClose();
            }}
          >
            New empty project
          </button>
          <button type="button" className="button" onClick={onOpen}>
            Open…
          </button>
        </footer>
      </div>
    </div>
  );
}
