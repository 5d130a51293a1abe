/** The classic networks of the course, each opened as a laid-out graph: the gallery, and its grid for the start page. */
import { useEffect, useState } from 'react';
import type { PresetInfo } from '../../api/project-api';
import { useApi } from '../api/context';
import { confirmDiscard, openPreset } from './project-files';

/** The presets as cards; choosing one opens it (after asking about unsaved changes). */
export function PresetGrid({ onOpened }: { onOpened(): void }) {
  const api = useApi();
  const [presets, setPresets] = useState<PresetInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void api.listPresets().then((r) => (r.ok ? setPresets(r.value) : setError(r.error)));
  }, [api]);
  return (
    <>
      {error && <p className="field-error">{error}</p>}
      <div className="preset-grid">
        {presets?.map((p) => (
          <button
            key={p.name}
            type="button"
            className="preset-card"
            data-testid={`preset-${p.name}`}
            onClick={async () => {
              if (!confirmDiscard(`Open ${p.title}`)) return;
              if (await openPreset(api, p.name)) onOpened();
            }}
          >
            <strong>{p.title}</strong>
            <span className="muted">{p.description}</span>
            <code>{p.name}</code>
          </button>
        ))}
      </div>
    </>
  );
}

export function PresetGallery({ onClose }: { onClose(): void }) {
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label="Presets">
      <div className="modal gallery">
        <header className="modal-head">
          <h2>Start from a classic network</h2>
          <button type="button" className="button" onClick={onClose}>
            Close
          </button>
        </header>
        <PresetGrid onOpened={onClose} />
      </div>
    </div>
  );
}
