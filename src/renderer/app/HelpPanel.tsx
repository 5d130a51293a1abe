/** The keyboard shortcuts, from the same table the key handler uses. */
import { shortcuts } from './shortcuts';

export function HelpPanel({ onClose }: { onClose(): void }) {
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts">
      <div className="modal help">
        <header className="modal-head">
          <h2>Keyboard shortcuts</h2>
          <button type="button" className="button" onClick={onClose}>
            Close
          </button>
        </header>
        <table>
          <tbody>
            {shortcuts.map((s) => (
              <tr key={s.command}>
                <td>
                  {s.keys.map((k) => (
                    <kbd key={k}>{k}</kbd>
                  ))}
                </td>
                <td>{s.label}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted">
          On the canvas: drag from the palette to add a layer; drag from a layer’s bottom port to
          the next one’s top port to connect; Shift-drag to select an area; Ctrl-click to add to the
          selection.
        </p>
      </div>
    </div>
  );
}
