/**
 * The studio's commands, each once: id, label, shortcut, when it is
 * available and what it does. The keyboard handler, the toolbars, the context
 * menus and the shortcut list all read this table, so a command cannot work
 * one way from the keyboard and another from a button.
 */
import { getLayerDef } from '../../core/layers/registry';
import { edgeKey, type InsertPlace } from '../state/graph-ops';
import { type LayoutDirection, layoutDirectionOf } from '../state/layout';
import { currentGraph, pathOf, type StudioState, useStudio } from '../state/store';

export type Dialog = 'open' | 'saveAs' | 'presets' | 'help' | 'export' | 'group' | 'start';

/** What commands need from the shell around them. */
export interface ActionHost {
  openDialog(dialog: Dialog): void;
  /** Closes a dialog or menu that is open; false when there was none. */
  closeOverlay(): boolean;
  save(): void;
  /** Starts a new project after asking about unsaved changes. */
  newProject(): void;
  fitView(): void;
  zoom(by: 'in' | 'out'): void;
  /** Shows a catalog block's inside (read-only: it is made from its parameters). */
  showBlockInside(pathId: string): void;
  /** Asks which layer to add at `place`. */
  pickLayer(place: InsertPlace): void;
  toggleMinimap(): void;
}

export interface Action {
  id: string;
  /** What buttons and menus show. */
  label: string;
  /** What it does, when the label alone is terse (tooltips, the shortcut list). */
  description?: string;
  /** As shown, e.g. "Ctrl+Z" (⌘ on macOS is accepted wherever Ctrl is). */
  keys?: readonly string[];
  /** Works while typing in a field (Save); others leave the field's own keys alone. */
  inFields?: boolean;
  /** 'canvas': only in the Design area with no dialog open; 'app': anywhere. */
  where: 'canvas' | 'app';
  /** Why it cannot run now (the disabled control's tooltip), or null. */
  unavailable?(state: StudioState): string | null;
  perform(host: ActionHost, state: StudioState): void;
}

const store = () => useStudio.getState();

function selectedBlock(state: StudioState): { id: string; user: boolean } | null {
  if (state.selection.length !== 1) return null;
  const node = currentGraph(state).nodes.find((n) => n.id === state.selection[0]);
  const def = node && getLayerDef(node.type);
  if (!node || def?.kind !== 'block') return null;
  return { id: node.id, user: def.userDefined === true };
}

/** Where "insert a layer" puts it: on the selected edge, after the selected layer, or on its own. */
export function insertPlace(state: StudioState): InsertPlace {
  const graph = currentGraph(state);
  if (state.selectedEdges.length === 1) {
    const index = graph.edges.findIndex((e, i) => edgeKey(e, i) === state.selectedEdges[0]);
    if (index >= 0) return { edge: index };
  }
  if (state.selection.length === 1) return { after: state.selection[0] };
  return null;
}

const nothingSelected = (s: StudioState) =>
  s.selection.length === 0 && s.selectedEdges.length === 0
    ? 'select layers or connections first'
    : null;
const noLayerSelected = (s: StudioState) =>
  s.selection.length === 0 ? 'select one or more layers first' : null;

function layoutIn(direction: LayoutDirection, label: string): Action {
  return {
    id: direction === 'TB' ? 'layoutTopDown' : 'layoutLeftRight',
    label,
    where: 'canvas',
    unavailable: (s) => (layoutDirectionOf(s.project) === direction ? 'already laid out so' : null),
    perform: () => store().setLayoutDirection(direction),
  };
}

const table = [
  {
    id: 'undo',
    label: 'Undo',
    keys: ['Ctrl+Z'],
    where: 'canvas',
    unavailable: (s) => (s.history.past.length === 0 ? 'nothing to undo' : null),
    perform: () => store().undo(),
  },
  {
    id: 'redo',
    label: 'Redo',
    keys: ['Ctrl+Shift+Z', 'Ctrl+Y'],
    where: 'canvas',
    unavailable: (s) => (s.history.future.length === 0 ? 'nothing to redo' : null),
    perform: () => store().redo(),
  },
  {
    id: 'openBlock',
    label: 'Open block',
    description: 'Open the selected block (or double-click its card)',
    where: 'canvas',
    unavailable: (s) => (selectedBlock(s) ? null : 'select a block first'),
    perform: (host, s) => {
      const block = selectedBlock(s)!;
      if (!block.user || !store().enterBlock(block.id)) host.showBlockInside(pathOf(s, block.id));
    },
  },
  {
    id: 'group',
    label: 'Group into block…',
    keys: ['Ctrl+G'],
    where: 'canvas',
    unavailable: noLayerSelected,
    perform: (host) => host.openDialog('group'),
  },
  {
    id: 'ungroup',
    label: 'Ungroup block',
    description: 'Replace the selected block by the layers inside it',
    keys: ['Ctrl+Shift+G'],
    where: 'canvas',
    unavailable: (s) => (selectedBlock(s) ? null : 'select a block first'),
    perform: (_host, s) => {
      const problem = store().ungroup(selectedBlock(s)!.id);
      if (problem) store().showNotice({ kind: 'error', title: 'Cannot ungroup', lines: [problem] });
    },
  },
  {
    id: 'insertLayer',
    label: 'Insert layer…',
    description: 'Insert a layer after the selected one, on the selected connection, or on its own',
    keys: ['I'],
    where: 'canvas',
    perform: (host, s) => host.pickLayer(insertPlace(s)),
  },
  {
    id: 'duplicate',
    label: 'Duplicate',
    keys: ['Ctrl+D'],
    where: 'canvas',
    unavailable: noLayerSelected,
    perform: () => {
      store().copy();
      store().paste();
    },
  },
  {
    id: 'copy',
    label: 'Copy',
    keys: ['Ctrl+C'],
    where: 'canvas',
    unavailable: noLayerSelected,
    perform: () => store().copy(),
  },
  {
    id: 'paste',
    label: 'Paste',
    keys: ['Ctrl+V'],
    where: 'canvas',
    unavailable: (s) => (s.clipboard ? null : 'copy layers first'),
    perform: () => store().paste(),
  },
  {
    id: 'delete',
    label: 'Delete',
    keys: ['Delete', 'Backspace'],
    where: 'canvas',
    unavailable: nothingSelected,
    perform: () => store().deleteSelection(),
  },
  {
    id: 'selectAll',
    label: 'Select every layer',
    keys: ['Ctrl+A'],
    where: 'canvas',
    perform: () => store().selectAll(),
  },
  {
    id: 'layout',
    label: 'Layout',
    description: 'Lay the graph out automatically',
    keys: ['L'],
    where: 'canvas',
    perform: () => store().autoLayout(),
  },
  layoutIn('TB', 'Lay out top-down'),
  layoutIn('LR', 'Lay out left to right'),
  {
    id: 'fit',
    label: 'Fit',
    description: 'Zoom to show the whole graph',
    keys: ['F'],
    where: 'canvas',
    perform: (host) => host.fitView(),
  },
  {
    id: 'zoomIn',
    label: 'Zoom in',
    keys: ['+', '='],
    where: 'canvas',
    perform: (h) => h.zoom('in'),
  },
  { id: 'zoomOut', label: 'Zoom out', keys: ['-'], where: 'canvas', perform: (h) => h.zoom('out') },
  {
    id: 'minimap',
    label: 'Map',
    description: 'Show or hide the map',
    keys: ['M'],
    where: 'canvas',
    perform: (host) => host.toggleMinimap(),
  },
  {
    id: 'save',
    label: 'Save',
    keys: ['Ctrl+S'],
    inFields: true,
    where: 'app',
    perform: (host) => host.save(),
  },
  {
    id: 'saveAs',
    label: 'Save as…',
    keys: ['Ctrl+Shift+S'],
    inFields: true,
    where: 'app',
    perform: (host) => host.openDialog('saveAs'),
  },
  {
    id: 'open',
    label: 'Open…',
    keys: ['Ctrl+O'],
    inFields: true,
    where: 'app',
    perform: (host) => host.openDialog('open'),
  },
  {
    id: 'new',
    label: 'New',
    description: 'New project',
    keys: ['Ctrl+N'],
    where: 'app',
    perform: (host) => host.newProject(),
  },
  {
    id: 'presets',
    label: 'Presets',
    description: 'Start from a classic network of the course',
    keys: ['P'],
    where: 'app',
    perform: (host) => host.openDialog('presets'),
  },
  { id: 'export', label: 'Export', where: 'app', perform: (host) => host.openDialog('export') },
  {
    id: 'help',
    label: 'Keyboard shortcuts',
    keys: ['?'],
    where: 'app',
    perform: (host) => host.openDialog('help'),
  },
  {
    id: 'escape',
    label: 'Close a dialog, clear the selection, go back out of a block',
    keys: ['Escape'],
    where: 'app',
    perform: (host, s) => {
      if (host.closeOverlay()) return;
      if (s.selection.length > 0 || s.selectedEdges.length > 0) store().select([]);
      else if (s.scope.length > 0) store().leaveBlock(s.scope.length - 1);
    },
  },
] as const satisfies readonly Action[];

export type ActionId = (typeof table)[number]['id'];

export const actions: readonly Action[] = table;

const byId = new Map(actions.map((a) => [a.id, a]));

export function getAction(id: ActionId): Action {
  return byId.get(id)!;
}

/** "Ctrl+Shift+Z" for a key event, with ⌘ counted as Ctrl. */
export function keyName(
  event: Pick<KeyboardEvent, 'ctrlKey' | 'metaKey' | 'shiftKey' | 'key'>,
): string {
  const parts: string[] = [];
  if (event.ctrlKey || event.metaKey) parts.push('Ctrl');
  const letter = event.key.length === 1 && /[a-z]/i.test(event.key);
  if (event.shiftKey && (event.key.length > 1 || letter)) parts.push('Shift');
  parts.push(event.key.length === 1 ? event.key.toUpperCase() : event.key);
  return parts.join('+');
}

export function findAction(
  event: Pick<KeyboardEvent, 'ctrlKey' | 'metaKey' | 'shiftKey' | 'key'>,
  typing: boolean,
): Action | undefined {
  const name = keyName(event);
  return actions.find((a) => a.keys?.includes(name) && (!typing || a.inFields));
}
