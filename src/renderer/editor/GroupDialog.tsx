/** Names the block the selected layers become (Group into block…). */
import { useState } from 'react';
import { useStudio } from '../state/store';

export function GroupDialog({ onClose }: { onClose(): void }) {
  const count = useStudio((s) => s.selection.length);
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label="Group into block">
      <form
        className="modal group-dialog"
        onSubmit={(e) => {
          e.preventDefault();
          const refused = useStudio.getState().groupSelection(name.trim());
          if (refused) setProblem(refused);
          else onClose();
        }}
      >
        <header className="modal-head">
          <h2>
            Group {count} layer{count === 1 ? '' : 's'} into a block
          </h2>
        </header>
        <p className="muted">
          The block appears under “My blocks” to be used again. Open it to edit: every use changes.
        </p>
        <div className="field">
          <label htmlFor="block-name">block name</label>
          <input
            id="block-name"
            type="text"
            // biome-ignore lint/a11y/noAutofocus: the dialog asks for this one name
            autoFocus
            value={name}
            placeholder="e.g. conv_bn_relu"
            onChange={(e) => setName(e.target.value)}
          />
          {problem && (
            <p className="field-error" role="alert">
              {problem}
            </p>
          )}
        </div>
        <div className="dialog-buttons">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={!name.trim()}>
            Group into block
          </button>
        </div>
      </form>
    </div>
  );
}
