/** The keyboard shortcuts, from the same table the key handler, toolbars and menus use. */
import { actions } from './actions';

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
            {actions
              .filter((a) => a.keys)
              .map((a) => (
                <tr key={a.id}>
                  <td>
                    {a.keys!.map((k) => (
                      <kbd key={k}>{k}</kbd>
                    ))}
                  </td>
                  <td>{a.description ?? a.label}</td>
                </tr>
              ))}
          </tbody>
        </table>
        <p className="muted">
          On the canvas: drag a layer from the palette (onto a connection to insert it there; with a
          layer selected, it is connected after it); drag from a layer’s output port to the next
          one’s input port to connect; right-click for a menu; double-click a block to open it;
          Shift-drag to select an area; Ctrl-click to add to the selection.
        </p>
      </div>
    </div>
  );
}
