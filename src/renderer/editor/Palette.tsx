/** The layer palette: every catalog layer grouped by category, searchable, dragged onto the canvas. */
import { useReactFlow } from '@xyflow/react';
import { type DragEvent, useMemo, useState } from 'react';
import { insertPlace } from '../app/actions';
import { useStudio } from '../state/store';
import { addLayer, PALETTE_MIME } from './Canvas';
import { type PaletteItem, paletteGroups } from './palette-items';

function startDrag(event: DragEvent, item: PaletteItem) {
  event.dataTransfer.setData(
    PALETTE_MIME,
    JSON.stringify({ type: item.type, params: item.params }),
  );
  event.dataTransfer.effectAllowed = 'copy';
}

export function Palette() {
  const [query, setQuery] = useState('');
  const blocks = useStudio((s) => s.project.blocks);
  const flow = useReactFlow();

  const groups = useMemo(() => paletteGroups(blocks, query), [blocks, query]);

  /**
   * Keyboard and click alternative to dragging: after the selected layer (or
   * on the selected connection), else in the middle of the view.
   */
  const addAtCentre = (item: PaletteItem) => {
    const place = insertPlace(useStudio.getState());
    const pane = document.querySelector('.canvas')?.getBoundingClientRect();
    const centre = pane
      ? flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 })
      : { x: 0, y: 0 };
    addLayer(item, place === null ? centre : undefined, place);
  };

  return (
    <aside className="palette" aria-label="Layer palette">
      <input
        className="palette-search"
        type="search"
        placeholder="Search layers…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-label="Search layers"
      />
      <div className="palette-groups">
        {groups.map((group) => (
          <section key={group.category} className="palette-group">
            <h3>{group.category}</h3>
            {group.items.map((item) => (
              <button
                type="button"
                key={item.key}
                className="palette-item"
                draggable
                onDragStart={(e) => startDrag(e, item)}
                onDoubleClick={() => addAtCentre(item)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') addAtCentre(item);
                }}
                title={`${item.description}\nDrag onto the canvas, or double-click to add.`}
                data-testid={`palette-${item.key}`}
              >
                <span className="palette-label">{item.label}</span>
                <span className="palette-desc">{item.description}</span>
              </button>
            ))}
          </section>
        ))}
        {groups.length === 0 && <p className="muted">No layer matches “{query}”.</p>}
      </div>
    </aside>
  );
}
