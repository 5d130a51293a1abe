/**
 * Undo/redo as a stack of document snapshots, kept outside the components.
 * Documents are immutable, so a snapshot shares every unchanged node with its
 * neighbours and costs little. Edits with the same coalescing key in a row
 * (typing in one field, one drag) make a single undo step.
 */
export interface History<T> {
  past: T[];
  future: T[];
  /** The key of the last recorded edit, if it may absorb the next one. */
  lastKey: string | null;
}

const LIMIT = 200;

export function emptyHistory<T>(): History<T> {
  return { past: [], future: [], lastKey: null };
}

/** Records `before` as an undo step unless the edit continues the previous one. */
export function record<T>(history: History<T>, before: T, key?: string): History<T> {
  if (key !== undefined && key === history.lastKey) return { ...history, future: [] };
  return { past: [...history.past, before].slice(-LIMIT), future: [], lastKey: key ?? null };
}

export function undo<T>(history: History<T>, current: T): { history: History<T>; value: T } | null {
  const value = history.past.at(-1);
  if (value === undefined) return null;
  return {
    value,
    history: {
      past: history.past.slice(0, -1),
      future: [current, ...history.future],
      lastKey: null,
    },
  };
}

export function redo<T>(history: History<T>, current: T): { history: History<T>; value: T } | null {
  const [value, ...rest] = history.future;
  if (value === undefined) return null;
  return { value, history: { past: [...history.past, current], future: rest, lastKey: null } };
}
