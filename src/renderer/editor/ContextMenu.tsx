/**
 * The right-click menu on a layer, a connection or the empty canvas. Its
 * entries are the studio's actions (actions.ts), with their shortcuts and the
 * reason when one is not available.
 */
import { useEffect, useRef } from 'react';
import { useActions, useUnavailable } from '../app/ActionsProvider';
import { type ActionId, getAction } from '../app/actions';
import type { MenuRequest } from './Canvas';

type Entry = { id: ActionId; label?: string } | 'separator';

const entries: Record<MenuRequest['kind'], Entry[]> = {
  node: [
    { id: 'openBlock' },
    { id: 'group' },
    { id: 'ungroup' },
    'separator',
    { id: 'insertLayer', label: 'Insert layer after…' },
    { id: 'duplicate' },
    { id: 'copy' },
    { id: 'delete' },
  ],
  edge: [
    { id: 'insertLayer', label: 'Insert layer here…' },
    { id: 'delete', label: 'Delete connection' },
  ],
  pane: [
    { id: 'insertLayer', label: 'Add layer here…' },
    { id: 'paste' },
    { id: 'selectAll' },
    'separator',
    { id: 'layout' },
    { id: 'layoutTopDown' },
    { id: 'layoutLeftRight' },
    { id: 'fit' },
  ],
};

export function ContextMenu({ request, onClose }: { request: MenuRequest; onClose(): void }) {
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    menu.current?.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
    const away = (event: PointerEvent) => {
      if (!menu.current?.contains(event.target as Node)) onClose();
    };
    window.addEventListener('pointerdown', away, true);
    return () => window.removeEventListener('pointerdown', away, true);
  }, [onClose]);
  // Kept inside the window when opened near its right or bottom edge.
  const left = Math.min(request.x, window.innerWidth - 240);
  const top = Math.min(request.y, window.innerHeight - 40 * entries[request.kind].length);
  return (
    <div
      ref={menu}
      className="context-menu"
      role="menu"
      aria-label={`${request.kind === 'pane' ? 'Canvas' : request.kind === 'edge' ? 'Connection' : 'Layer'} menu`}
      style={{ left, top }}
      onContextMenu={(e) => e.preventDefault()}
      onKeyDown={(e) => {
        if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
        e.preventDefault();
        const items = [
          ...(menu.current?.querySelectorAll<HTMLButtonElement>('button:not(:disabled)') ?? []),
        ];
        const at = items.indexOf(document.activeElement as HTMLButtonElement);
        items[(at + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]?.focus();
      }}
    >
      {entries[request.kind].map((entry, i) =>
        entry === 'separator' ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: separators have no identity
          <hr key={i} />
        ) : (
          <MenuItem key={entry.id} id={entry.id} label={entry.label} onDone={onClose} />
        ),
      )}
    </div>
  );
}

function MenuItem({ id, label, onDone }: { id: ActionId; label?: string; onDone(): void }) {
  const { run } = useActions();
  const why = useUnavailable(id);
  const action = getAction(id);
  return (
    <button
      type="button"
      role="menuitem"
      disabled={why !== null}
      title={why ?? undefined}
      onClick={() => {
        onDone();
        run(id);
      }}
    >
      <span>{label ?? action.label}</span>
      {action.keys && <kbd>{action.keys[0]}</kbd>}
    </button>
  );
}
