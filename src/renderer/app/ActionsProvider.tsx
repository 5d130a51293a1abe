/**
 * Puts the command table (actions.ts) to work: the shell provides what
 * commands need (ActionHost), and buttons, menus and the keyboard run them
 * through the same `run`, with the same availability.
 */
import { createContext, type ReactNode, useContext, useEffect, useMemo } from 'react';
import { useStudio } from '../state/store';
import { type ActionHost, type ActionId, findAction, getAction } from './actions';

interface Actions {
  run(id: ActionId): void;
  host: ActionHost;
}

const ActionsContext = createContext<Actions | null>(null);

export function ActionsProvider({
  host,
  onCanvas,
  children,
}: {
  host: ActionHost;
  /** Whether canvas commands apply now (the Design area, no dialog open). */
  onCanvas: boolean;
  children: ReactNode;
}) {
  const value = useMemo<Actions>(
    () => ({
      host,
      run(id) {
        const action = getAction(id);
        const state = useStudio.getState();
        if (action.unavailable?.(state)) return;
        action.perform(host, state);
      },
    }),
    [host],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      const typing = target.closest('input, textarea, select, [contenteditable="true"]') !== null;
      const action = findAction(event, typing);
      if (!action || (action.where === 'canvas' && !onCanvas)) return;
      event.preventDefault();
      value.run(action.id as ActionId);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [value, onCanvas]);

  return <ActionsContext.Provider value={value}>{children}</ActionsContext.Provider>;
}

export function useActions(): Actions {
  const actions = useContext(ActionsContext);
  if (!actions) throw new Error('useActions outside ActionsProvider');
  return actions;
}

/** Why the action cannot run now, or null; follows the editor's state. */
export function useUnavailable(id: ActionId): string | null {
  return useStudio((s) => getAction(id).unavailable?.(s) ?? null);
}

/** "Undo (Ctrl+Z)": what it does with the first shortcut, as tooltips show it. */
export function withShortcut(id: ActionId): string {
  const { keys, label, description } = getAction(id);
  return keys ? `${description ?? label} (${keys[0]})` : (description ?? label);
}

/** A toolbar button for an action: its label, its shortcut in the tooltip, disabled with the reason. */
export function ActionButton({
  id,
  className = 'button',
  children,
}: {
  id: ActionId;
  className?: string;
  children?: ReactNode;
}) {
  const { run } = useActions();
  const why = useUnavailable(id);
  return (
    <button
      type="button"
      className={className}
      onClick={() => run(id)}
      disabled={why !== null}
      title={why ?? withShortcut(id)}
      // A symbol (↓, +) shown instead of the label still has the label as its name.
      aria-label={children === undefined ? undefined : getAction(id).label}
    >
      {children ?? getAction(id).label}
    </button>
  );
}
