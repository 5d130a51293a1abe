/**
 * The editor's state: the project document (the one source of truth), its
 * file, selection, clipboard and undo history. Every edit goes through `edit`,
 * which records history and re-runs shape inference (pure and fast), so all
 * panels read the same, current inference.
 */
import { create } from 'zustand';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../core/document/schema';
import { type GraphInference, inferGraph } from '../../core/infer';
import {
  checkConnection,
  copySelection,
  deleteNodes,
  edgeKey,
  type Graph,
  groupIntoBlock,
  newNode,
  pasteGraph,
} from './graph-ops';
import { emptyHistory, type History, record, redo, undo } from './history';
import { layoutGraph, needsLayout } from './layout';

export interface Notice {
  kind: 'error' | 'info';
  title: string;
  lines: string[];
}

export interface StudioState {
  project: Project;
  /** The project file, relative to the host's project folder; null until saved. */
  path: string | null;
  dirty: boolean;
  /** The document as last opened or saved: undoing back to it makes the project clean again. */
  savedProject: Project;
  history: History<Project>;
  selection: string[];
  selectedEdges: string[];
  inference: GraphInference;
  clipboard: Graph | null;
  notice: Notice | null;
  /** Counts loads (open, preset, new), so the canvas can zoom to fit a freshly opened graph. */
  loadCount: number;

  edit(update: (project: Project) => Project, key?: string): void;
  load(project: Project, path: string | null): void;
  newProject(): void;
  markSaved(path: string): void;
  undo(): void;
  redo(): void;
  /** Puts back a document from the history (undo, redo). */
  restore(project: Project, history: History<Project>): void;
  select(nodes: string[], edges?: string[]): void;
  addNode(
    type: string,
    position: { x: number; y: number },
    params?: Record<string, unknown>,
  ): string;
  connect(source: string, target: string): string | null;
  setParam(nodeId: string, field: string, value: unknown): void;
  setLabel(nodeId: string, label: string): void;
  moveNodes(positions: Map<string, { x: number; y: number }>, dragKey: string): void;
  deleteSelection(): void;
  copy(): void;
  paste(): void;
  selectAll(): void;
  autoLayout(): void;
  groupSelection(name: string): string | null;
  showNotice(notice: Notice | null): void;
}

export function emptyProject(): Project {
  return {
    format: PROJECT_FORMAT,
    version: PROJECT_VERSION,
    name: 'Untitled',
    nodes: [
      {
        id: 'input',
        type: 'Input',
        params: { channels: 1, height: 28, width: 28 },
        position: { x: 0, y: 0 },
      },
    ],
    edges: [],
    blocks: {},
  };
}

export function infer(project: Project): GraphInference {
  return inferGraph(project);
}

const PASTE_OFFSET = { x: 40, y: 40 };

export const useStudio = create<StudioState>()((set, get) => {
  const initial = emptyProject();
  return {
    project: initial,
    path: null,
    dirty: false,
    savedProject: initial,
    history: emptyHistory(),
    selection: [],
    selectedEdges: [],
    inference: infer(initial),
    clipboard: null,
    notice: null,
    loadCount: 0,

    edit(update, key) {
      const before = get().project;
      const after = update(before);
      if (after === before) return;
      set({
        project: after,
        dirty: after !== get().savedProject,
        history: record(get().history, before, key),
        inference: infer(after),
      });
    },

    load(project, path) {
      const laidOut = needsLayout(project) ? layoutGraph(project) : project;
      set({
        project: laidOut,
        path,
        dirty: false,
        savedProject: laidOut,
        history: emptyHistory(),
        selection: [],
        selectedEdges: [],
        inference: infer(laidOut),
        loadCount: get().loadCount + 1,
      });
    },

    newProject() {
      get().load(emptyProject(), null);
    },

    markSaved(path) {
      set({ path, dirty: false, savedProject: get().project });
    },

    undo() {
      const step = undo(get().history, get().project);
      if (step) get().restore(step.value, step.history);
    },

    redo() {
      const step = redo(get().history, get().project);
      if (step) get().restore(step.value, step.history);
    },

    restore(project, history) {
      set({ project, history, inference: infer(project), dirty: project !== get().savedProject });
    },

    select(nodes, edges = []) {
      const { selection, selectedEdges } = get();
      if (sameList(selection, nodes) && sameList(selectedEdges, edges)) return;
      set({ selection: nodes, selectedEdges: edges });
    },

    addNode(type, position, params) {
      const node = newNode(
        type,
        position,
        get().project.nodes.map((n) => n.id),
        params,
      );
      get().edit((p) => ({ ...p, nodes: [...p.nodes, node] }));
      set({ selection: [node.id], selectedEdges: [] });
      return node.id;
    },

    connect(source, target) {
      const check = checkConnection(get().project, source, target);
      if (!check.ok) return check.reason;
      get().edit((p) => ({ ...p, edges: [...p.edges, { source, target }] }));
      return null;
    },

    setParam(nodeId, field, value) {
      get().edit(
        (p) => ({
          ...p,
          nodes: p.nodes.map((n) =>
            n.id === nodeId ? { ...n, params: { ...n.params, [field]: value } } : n,
          ),
        }),
        `param:${nodeId}:${field}`,
      );
    },

    setLabel(nodeId, label) {
      get().edit(
        (p) => ({
          ...p,
          nodes: p.nodes.map((n) => {
            if (n.id !== nodeId) return n;
            const { label: _old, ...rest } = n;
            return label.trim() ? { ...rest, label } : rest;
          }),
        }),
        `label:${nodeId}`,
      );
    },

    moveNodes(positions, dragKey) {
      // Positions do not change shapes: skip re-inference on every frame of a drag.
      const before = get().project;
      set({
        project: {
          ...before,
          nodes: before.nodes.map((n) => {
            const at = positions.get(n.id);
            return at ? { ...n, position: { x: Math.round(at.x), y: Math.round(at.y) } } : n;
          }),
        },
        dirty: true, // a drag always moves something
        history: record(get().history, before, dragKey),
      });
    },

    deleteSelection() {
      const { selection, selectedEdges } = get();
      if (selection.length === 0 && selectedEdges.length === 0) return;
      const ids = new Set(selection);
      const edges = new Set(selectedEdges);
      get().edit((p) => {
        const without = deleteNodes(p, ids);
        return {
          ...without,
          edges: without.edges.filter((e) => !edges.has(edgeKey(e, p.edges.indexOf(e)))),
        };
      });
      set({ selection: [], selectedEdges: [] });
    },

    copy() {
      const { selection, project } = get();
      if (selection.length > 0) set({ clipboard: copySelection(project, new Set(selection)) });
    },

    paste() {
      const piece = get().clipboard;
      if (!piece) return;
      let pasted: string[] = [];
      get().edit((p) => {
        const result = pasteGraph(p, piece, PASTE_OFFSET);
        pasted = result.ids;
        return result.graph;
      });
      // A second paste lands further down, not on top of the first.
      set({
        selection: pasted,
        selectedEdges: [],
        clipboard: {
          ...piece,
          nodes: piece.nodes.map((n) => ({
            ...n,
            position: {
              x: (n.position?.x ?? 0) + PASTE_OFFSET.x,
              y: (n.position?.y ?? 0) + PASTE_OFFSET.y,
            },
          })),
        },
      });
    },

    selectAll() {
      set({ selection: get().project.nodes.map((n) => n.id), selectedEdges: [] });
    },

    autoLayout() {
      get().edit((p) => layoutGraph(p));
    },

    groupSelection(name) {
      const result = groupIntoBlock(get().project, new Set(get().selection), name);
      if (!result.ok) return result.reason;
      get().edit(() => result.project);
      set({ selection: [result.blockNodeId], selectedEdges: [] });
      return null;
    },

    showNotice(notice) {
      set({ notice });
    },
  };
});

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The document as it is written to a file. */
export function projectText(project: Project): string {
  return `${JSON.stringify(project, null, 2)}\n`;
}
