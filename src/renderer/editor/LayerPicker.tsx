/**
 * "Insert layer…": a searchable list of what the palette offers, opened at
 * the pointer (context menu) or the canvas's centre (the I key). Type to
 * filter, arrows to move, Enter to add.
 */
import { useMemo, useState } from 'react';
import type { InsertPlace } from '../state/graph-ops';
import { useStudio } from '../state/store';
import { addLayer } from './Canvas';
import { bestMatch, paletteGroups } from './palette-items';

export interface PickerRequest {
  place: InsertPlace;
  /** Screen position of the popup. */
  x: number;
  y: number;
  /** Where on the canvas a layer with nothing to follow goes. */
  at: { x: number; y: number };
}

export function LayerPicker({ request, onClose }: { request: PickerRequest; onClose(): void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const blocks = useStudio((s) => s.project.blocks);
  const groups = useMemo(() => paletteGroups(blocks, query), [blocks, query]);
  const items = groups.flatMap((g) => g.items);
  const choose = (index: number) => {
    const item = items[index];
    if (!item) return;
    onClose();
    addLayer(item, request.place === null ? request.at : undefined, request.place);
  };
  const where =
    request.place === null
      ? 'Add a layer here'
      : 'edge' in request.place
        ? 'Insert a layer on this connection'
        : `Insert a layer after ${request.place.after}`;
  const left = Math.min(request.x, window.innerWidth - 300);
  const top = Math.min(request.y, window.innerHeight - 380);
  return (
    <div className="layer-picker" role="dialog" aria-label="Insert layer" style={{ left, top }}>
      <p className="muted">{where}</p>
      <input
        type="search"
        // biome-ignore lint/a11y/noAutofocus: the picker exists to be typed into
        autoFocus
        placeholder="Layer or block…"
        aria-label="Search layers to insert"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(
            bestMatch(
              paletteGroups(blocks, e.target.value).flatMap((g) => g.items),
              e.target.value,
            ),
          );
        }}
        onBlur={(e) => {
          if (!e.currentTarget.parentElement?.contains(e.relatedTarget)) onClose();
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, items.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter') choose(active);
          else if (e.key === 'Escape') onClose();
          else return;
          e.preventDefault();
          e.stopPropagation();
        }}
      />
      <div className="picker-list">
        {groups.map((group) => (
          <section key={group.category}>
            <h3>{group.category}</h3>
            {group.items.map((item) => {
              const index = items.indexOf(item);
              return (
                <button
                  type="button"
                  key={item.key}
                  tabIndex={-1}
                  className={index === active ? 'active' : undefined}
                  aria-current={index === active}
                  onMouseDown={(e) => e.preventDefault()}
                  onMouseEnter={() => setActive(index)}
                  onClick={() => choose(index)}
                  data-testid={`pick-${item.key}`}
                >
                  <strong>{item.label}</strong> <span className="muted">{item.description}</span>
                </button>
              );
            })}
          </section>
        ))}
        {items.length === 0 && <p className="muted">No layer matches “{query}”.</p>}
      </div>
    </div>
  );
}
