/** Keyboard shortcuts: one table drives both the key handler and the help panel. */
export type CommandId =
  | 'undo'
  | 'redo'
  | 'delete'
  | 'copy'
  | 'paste'
  | 'duplicate'
  | 'selectAll'
  | 'layout'
  | 'fit'
  | 'save'
  | 'saveAs'
  | 'open'
  | 'new'
  | 'presets'
  | 'help'
  | 'escape';

export interface Shortcut {
  command: CommandId;
  /** As shown: "Ctrl+Z" (⌘ on macOS is accepted wherever Ctrl is). */
  keys: string[];
  label: string;
  /** Works while typing in a field (Save); others leave the field's own keys alone. */
  inFields?: boolean;
}

export const shortcuts: Shortcut[] = [
  { command: 'undo', keys: ['Ctrl+Z'], label: 'Undo' },
  { command: 'redo', keys: ['Ctrl+Shift+Z', 'Ctrl+Y'], label: 'Redo' },
  { command: 'delete', keys: ['Delete', 'Backspace'], label: 'Delete the selection' },
  { command: 'copy', keys: ['Ctrl+C'], label: 'Copy the selected layers' },
  { command: 'paste', keys: ['Ctrl+V'], label: 'Paste' },
  { command: 'duplicate', keys: ['Ctrl+D'], label: 'Duplicate the selection' },
  { command: 'selectAll', keys: ['Ctrl+A'], label: 'Select every layer' },
  { command: 'layout', keys: ['L'], label: 'Lay the graph out automatically' },
  { command: 'fit', keys: ['F'], label: 'Zoom to fit' },
  { command: 'save', keys: ['Ctrl+S'], label: 'Save', inFields: true },
  { command: 'saveAs', keys: ['Ctrl+Shift+S'], label: 'Save as…', inFields: true },
  { command: 'open', keys: ['Ctrl+O'], label: 'Open…', inFields: true },
  { command: 'new', keys: ['Ctrl+N'], label: 'New project' },
  { command: 'presets', keys: ['P'], label: 'Presets gallery' },
  { command: 'help', keys: ['?'], label: 'This list of shortcuts' },
  { command: 'escape', keys: ['Escape'], label: 'Close a dialog, clear the selection' },
];

/** "Ctrl+Shift+Z" for a key event, with ⌘ counted as Ctrl. */
export function keyName(event: KeyboardEvent): string {
  const parts: string[] = [];
  if (event.ctrlKey || event.metaKey) parts.push('Ctrl');
  if (event.shiftKey && event.key.length > 1) parts.push('Shift');
  if (event.shiftKey && event.key.length === 1 && /[a-z]/i.test(event.key)) parts.push('Shift');
  parts.push(event.key.length === 1 ? event.key.toUpperCase() : event.key);
  return parts.join('+');
}

export function findShortcut(event: KeyboardEvent, typing: boolean): Shortcut | undefined {
  const name = keyName(event);
  return shortcuts.find((s) => s.keys.includes(name) && (!typing || s.inFields));
}
