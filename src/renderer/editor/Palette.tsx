/** The layer palette: every catalog layer grouped by category, searchable, dragged onto the canvas. */
import { useReactFlow } from '@xyflow/react';
import { type DragEvent, useMemo, useState } from 'react';
import { layerRegistry } from '../../core/layers/registry';
import { type Category, categoryLabels, type LayerDef } from '../../core/layers/types';
import { useStudio } from '../state/store';
import { PALETTE_MIME } from './Canvas';

interface PaletteItem {
  key: string;
  label: string;
  description: string;
  type: string;
  params?: Record<string, unknown>;
}

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

  const groups = useMemo(() => {
    const byCategory = new Map<string, PaletteItem[]>();
    const add = (category: string, item: PaletteItem) => {
      const list = byCategory.get(category) ?? [];
      list.push(item);
      byCategory.set(category, list);
    };
    for (const def of layerRegistry.values()) {
      if (def.type === 'Block') continue; // offered through the project's own blocks below
      add(categoryLabels[def.category as Category], itemOf(def));
    }
    for (const [name, block] of Object.entries(blocks))
      add('My blocks', {
        key: `block:${name}`,
        label: block.label ?? name,
        description: block.description ?? `Your block '${name}' (${block.nodes.length - 1} layers)`,
        type: 'Block',
        params: { block: name },
      });
    const q = query.trim().toLowerCase();
    return [...byCategory.entries()]
      .map(([category, items]) => ({
        category,
        items: items.filter(
          (i) => !q || i.label.toLowerCase().includes(q) || i.description.toLowerCase().includes(q),
        ),
      }))
      .filter((g) => g.items.length > 0);
  }, [blocks, query]);

  /** Keyboard and click alternative to dragging: adds the layer in the middle of the view. */
  const addAtCentre = (item: PaletteItem) => {
    const pane = document.querySelector('.canvas')?.getBoundingClientRect();
    const centre = pane
      ? flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 })
      : { x: 0, y: 0 };
    useStudio.getState().addNode(item.type, centre, item.params);
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

function itemOf(def: LayerDef): PaletteItem {
  return { key: def.type, label: def.label, description: def.description, type: def.type };
}
