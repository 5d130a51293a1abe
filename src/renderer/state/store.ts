/**
 * The editor's state: the project document (the one source of truth), its
 * file, where in it the user is editing (the top level or inside a block),
 * selection, clipboard and undo history. Every edit goes through `edit`,
 * which records history and re-runs shape inference (pure and fast), so all
 * panels read the same, current inference.
 */
import { create } from 'zustand';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../core/document/schema';
import { type GraphInference, inferGraph } from '../../core/infer';
import { getLayerDef } from '../../core/layers/registry';
import type { Subgraph } from '../../core/layers/types';
import {
  checkConnection,
  copySelection,
  deleteNodes,
  edgeKey,
  type Graph,
  groupIntoBlock,
  type InsertPlace,
  insertNode,
  newNode,
  pasteGraph,
  ungroupBlock,
} from './graph-ops';
import { emptyHistory, type History, record, redo, undo } from './history';
import { type LayoutDirection, layoutDirectionOf, layoutGraph, needsLayout } from './layout';
import { graphAt, pathPrefix, type ScopeStep, validScope, withGraphAt } from './scope';

export interface Notice {
  kind: 'error' | 'info';
  title: string;
  lines: string[];
}

type Size = { width: number; height: number };

export interface StudioState {
  project: Project;
  /** The project file, relative to the host's project folder; null until saved. */
  path: string | null;
  dirty: boolean;
  /** The document as last opened or saved: undoing back to it makes the project clean again. */
  savedProject: Project;
  history: History<Project>;
  /** The user blocks opened for editing, outermost first; empty at the top level. */
  scope: ScopeStep[];
  /** Selected node ids of the graph being edited (at `scope`). */
  selection: string[];
  selectedEdges: string[];
  inference: GraphInference;
  clipboard: Graph | null;
  notice: Notice | null;
  /** A field to bring forward in the inspector: the one that fixes a problem the user followed. */
  focus: { path: string; field: string } | null;
  /** A short line at the canvas's foot: why a connection or drop was refused. */
  hint: string | null;
  /**
   * What the canvas should show next: the whole graph (after open, preset,
   * new, entering or leaving a block, layout) or one node (a summary row or a
   * problem followed). `seq` counts requests.
   */
  view: { seq: number; centre: string | null; onlyIfHidden?: boolean; whole?: boolean };
  /** The canvas's size, so automatic layout can fold a long chain to fit it. */
  canvasSize: Size | null;
  /**
   * Graphs (by block name; '' for the top level) drawn as the automatic
   * layout drew them: structural edits (insert, connect, delete, group,
   * ungroup) lay them out again. Moving a layer by hand ends it until Layout.
   */
  arranged: Record<string, boolean>;

  edit(update: (project: Project) => Project, key?: string): void;
  /** Edits the graph being edited (the top level, or the open block's definition). */
  editGraph(update: (graph: Graph) => Graph, key?: string): void;
  load(project: Project, path: string | null): void;
  newProject(): void;
  markSaved(path: string): void;
  undo(): void;
  redo(): void;
  /** Puts back a document from the history (undo, redo). */
  restore(project: Project, history: History<Project>): void;
  select(nodes: string[], edges?: string[]): void;
  /** Adds a layer, on its own or inserted at `place`; returns its id, or why it cannot be added. */
  addNode(
    type: string,
    position: { x: number; y: number } | undefined,
    params?: Record<string, unknown>,
    place?: InsertPlace,
  ): { id: string } | { reason: string };
  connect(source: string, target: string): string | null;
  setParam(nodeId: string, field: string, value: unknown): void;
  setLabel(nodeId: string, label: string): void;
  moveNodes(positions: Map<string, { x: number; y: number }>, dragKey: string): void;
  deleteSelection(): void;
  copy(): void;
  paste(): void;
  selectAll(): void;
  autoLayout(): void;
  setLayoutDirection(direction: LayoutDirection): void;
  /** The cards' sizes as drawn, for the automatic layout. */
  noteSizes(sizes: Map<string, Size>): void;
  groupSelection(name: string): string | null;
  /** Replaces a block node by the layers inside it; returns why not, or null. */
  ungroup(nodeId: string): string | null;
  /** Opens a user block node of the current graph for editing. */
  enterBlock(nodeId: string): boolean;
  /** Goes back out to `depth` blocks deep (0: the top level). */
  leaveBlock(depth: number): void;
  /** Opens the blocks on the way to a node's path id and selects it (or its outermost block that is not the user's). */
  reveal(pathId: string, field?: string): void;
  setCanvasSize(size: Size): void;
  /** Asks the canvas to show the whole graph, or to centre `nodeId` (if hidden: only when out of view). */
  requestView(nodeId?: string, ifHidden?: boolean): void;
  /** Asks the canvas to zoom to the whole graph, however small that makes it (Fit). */
  requestFit(): void;
  /** The user moved the view: a graph settling now must not fit it again. */
  viewMoved(): void;
  showNotice(notice: Notice | null): void;
  setHint(hint: string | null): void;
}

/** A new project's name until the user names it (or saves it as a file). */
export const DEFAULT_NAME = 'Untitled';

export function emptyProject(): Project {
  return {
    format: PROJECT_FORMAT,
    version: PROJECT_VERSION,
    name: DEFAULT_NAME,
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

/** The graph being edited. */
export function currentGraph(state: Pick<StudioState, 'project' | 'scope'>): Graph {
  return graphAt(state.project, state.scope);
}

/** Turns a node id of the graph being edited into its inference path id. */
export function pathOf(state: Pick<StudioState, 'scope'>, nodeId: string): string {
  return pathPrefix(state.scope) + nodeId;
}

const PASTE_OFFSET = { x: 40, y: 40 };

export const useStudio = create<StudioState>()((set, get) => {
  const initial = emptyProject();
  const measured = new Map<string, Size>();
  let fitAskedAt = 0;
  /** The next view request: the whole graph. */
  const fitNext = () => {
    fitAskedAt = Date.now();
    return { seq: get().view.seq + 1, centre: null };
  };
  const direction = () => layoutDirectionOf(get().project);
  const layout = (graph: Graph) =>
    layoutGraph(graph, {
      direction: direction(),
      sizes: measured,
      view: get().canvasSize ?? undefined,
    });
  const scopeKey = () => get().scope.at(-1)?.block ?? '';
  /** After a structural edit: laid out again if the graph was drawn by the automatic layout. */
  const tidy = (graph: Graph) => (get().arranged[scopeKey()] ? layout(graph) : graph);
  const setArranged = (value: boolean) =>
    set({ arranged: { ...get().arranged, [scopeKey()]: value } });
  /**
   * A block's inside: a user block's own definition, or a catalog block's
   * layers as inference expanded them (once, with the shape entering it).
   */
  const insideOf = (nodeId: string): Subgraph | string => {
    const state = get();
    const node = currentGraph(state).nodes.find((n) => n.id === nodeId);
    const def = node && getLayerDef(node.type);
    if (!node || def?.kind !== 'block') return 'select a block to ungroup';
    if (def.userDefined) {
      const name = String(node.params.block ?? '');
      return Object.hasOwn(state.project.blocks, name)
        ? state.project.blocks[name]
        : `the project has no block named '${name}'`;
    }
    const info = state.inference.byId.get(pathOf(state, nodeId));
    if (!info?.children || !info.childEdges) {
      return info?.error ?? `connect '${nodeId}' and fix its parameters first`;
    }
    const prefix = `${info.id}/`;
    return {
      nodes: info.children.map((child) => ({
        id: child.id.slice(prefix.length),
        type: child.type,
        params: child.params ?? {},
        ...(child.label ? { label: child.label } : {}),
      })),
      edges: info.childEdges,
    };
  };
  return {
    project: initial,
    path: null,
    dirty: false,
    savedProject: initial,
    history: emptyHistory(),
    scope: [],
    selection: [],
    selectedEdges: [],
    inference: infer(initial),
    clipboard: null,
    notice: null,
    focus: null,
    hint: null,
    view: { seq: 0, centre: null },
    canvasSize: null,
    arranged: {},

    edit(update, key) {
      const before = get().project;
      const after = update(before);
      if (after === before) return;
      set({
        project: after,
        dirty: after !== get().savedProject,
        history: record(get().history, before, key),
        inference: infer(after),
        scope: validScope(after, get().scope),
      });
    },

    editGraph(update, key) {
      const { scope } = get();
      get().edit((p) => {
        const before = graphAt(p, scope);
        const after = update(before);
        return after === before ? p : withGraphAt(p, scope, after);
      }, key);
    },

    load(project, path) {
      // A preset, a hand-written file or a new project: drawn by the automatic layout.
      const arranged = needsLayout(project) || project.nodes.length <= 1;
      const laidOut = arranged
        ? {
            ...project,
            ...layoutGraph(project, {
              direction: layoutDirectionOf(project),
              view: get().canvasSize ?? undefined,
            }),
          }
        : project;
      set({
        project: laidOut,
        path,
        dirty: false,
        savedProject: laidOut,
        history: emptyHistory(),
        scope: [],
        selection: [],
        selectedEdges: [],
        inference: infer(laidOut),
        view: fitNext(),
        arranged: { '': arranged },
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
      const scope = validScope(project, get().scope);
      const ids = new Set(graphAt(project, scope).nodes.map((n) => n.id));
      set({
        project,
        history,
        inference: infer(project),
        dirty: project !== get().savedProject,
        scope,
        selection: get().selection.filter((id) => ids.has(id)),
        selectedEdges: [],
      });
    },

    select(nodes, edges = []) {
      const { selection, selectedEdges } = get();
      if (sameList(selection, nodes) && sameList(selectedEdges, edges)) return;
      set({ selection: nodes, selectedEdges: edges, focus: null });
    },

    addNode(type, position, params, place = null) {
      const refusal = containsItself(get().scope, type, params);
      if (refusal) return { reason: refusal };
      const graph = currentGraph(get());
      const node = newNode(
        type,
        position ?? { x: 0, y: 0 },
        graph.nodes.map((n) => n.id),
        params,
      );
      if (!position) delete node.position;
      const placed = insertNode(graph, node, place, direction());
      if (!placed.ok) return { reason: placed.reason };
      // A layer dropped on its own stays where it was dropped.
      get().editGraph(() => (place === null ? placed.graph : tidy(placed.graph)));
      set({ selection: [node.id], selectedEdges: [] });
      // A layer added at the end of a long chain may land out of view: follow it.
      get().requestView(node.id, true);
      return { id: node.id };
    },

    connect(source, target) {
      const check = checkConnection(currentGraph(get()), source, target);
      if (!check.ok) return check.reason;
      get().editGraph((g) => tidy({ ...g, edges: [...g.edges, { source, target }] }));
      return null;
    },

    setParam(nodeId, field, value) {
      get().editGraph(
        (g) => ({
          ...g,
          nodes: g.nodes.map((n) =>
            n.id === nodeId ? { ...n, params: { ...n.params, [field]: value } } : n,
          ),
        }),
        `param:${pathOf(get(), nodeId)}:${field}`,
      );
    },

    setLabel(nodeId, label) {
      get().editGraph(
        (g) => ({
          ...g,
          nodes: g.nodes.map((n) => {
            if (n.id !== nodeId) return n;
            const { label: _old, ...rest } = n;
            return label.trim() ? { ...rest, label } : rest;
          }),
        }),
        `label:${pathOf(get(), nodeId)}`,
      );
    },

    moveNodes(positions, dragKey) {
      // Positions do not change shapes: skip re-inference on every frame of a drag.
      const { project, scope } = get();
      const before = graphAt(project, scope);
      const drawn = needsLayout(before) ? layout(before) : before;
      const moved = {
        ...drawn,
        nodes: drawn.nodes.map((n) => {
          const at = positions.get(n.id);
          return at ? { ...n, position: { x: Math.round(at.x), y: Math.round(at.y) } } : n;
        }),
      };
      set({
        project: withGraphAt(project, scope, moved),
        dirty: true, // a drag always moves something
        history: record(get().history, project, dragKey),
      });
      setArranged(false);
    },

    deleteSelection() {
      const { selection, selectedEdges } = get();
      if (selection.length === 0 && selectedEdges.length === 0) return;
      const ids = new Set(selection);
      const edges = new Set(selectedEdges);
      get().editGraph((g) => {
        const without = deleteNodes(g, ids);
        return tidy({
          ...without,
          edges: without.edges.filter((e) => !edges.has(edgeKey(e, g.edges.indexOf(e)))),
        });
      });
      set({ selection: [], selectedEdges: [] });
    },

    copy() {
      const { selection } = get();
      if (selection.length > 0)
        set({ clipboard: copySelection(currentGraph(get()), new Set(selection)) });
    },

    paste() {
      const piece = get().clipboard;
      if (!piece) return;
      const refusal = piece.nodes
        .map((n) => containsItself(get().scope, n.type, n.params))
        .find(Boolean);
      if (refusal) {
        get().showNotice({ kind: 'error', title: 'Cannot paste here', lines: [refusal] });
        return;
      }
      let pasted: string[] = [];
      get().editGraph((g) => {
        const result = pasteGraph(g, piece, PASTE_OFFSET);
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
      set({ selection: currentGraph(get()).nodes.map((n) => n.id), selectedEdges: [] });
    },

    autoLayout() {
      get().editGraph((g) => layout(g));
      setArranged(true);
      get().requestView();
    },

    setLayoutDirection(next) {
      if (next === direction()) return;
      get().edit((p) => ({ ...p, ui: { ...p.ui, layoutDirection: next } }));
      get().autoLayout();
    },

    noteSizes(sizes) {
      let changed = false;
      for (const [id, size] of sizes) {
        const before = measured.get(id);
        if (!before || Math.abs(before.height - size.height) > 4) changed = true;
        measured.set(id, size);
      }
      // Cards drawn for the first time (or grown) are laid out again with their real sizes,
      // as part of the edit that made them: no undo step of its own, and a fresh file stays clean.
      if (!changed || !get().arranged[scopeKey()]) return;
      const { project, scope, savedProject, view } = get();
      const settled = withGraphAt(project, scope, layout(graphAt(project, scope)));
      set({ project: settled, savedProject: project === savedProject ? settled : savedProject });
      // A graph just opened is fitted again to its settled drawing.
      if (view.centre === null && Date.now() - fitAskedAt < 1000)
        set({ view: { ...view, seq: view.seq + 1 } });
    },

    groupSelection(name) {
      const { project, scope, selection } = get();
      const result = groupIntoBlock(
        graphAt(project, scope),
        project.blocks,
        new Set(selection),
        name,
      );
      if (!result.ok) return result.reason;
      get().edit((p) => {
        const grouped = withGraphAt(p, scope, tidy(result.graph));
        return { ...grouped, blocks: { ...grouped.blocks, [name]: result.block } };
      });
      set({ selection: [result.blockNodeId], selectedEdges: [] });
      return null;
    },

    ungroup(nodeId) {
      const inside = insideOf(nodeId);
      if (typeof inside === 'string') return inside;
      const node = currentGraph(get()).nodes.find((n) => n.id === nodeId)!;
      const result = ungroupBlock(currentGraph(get()), nodeId, inside, direction());
      if (!result.ok) return result.reason;
      get().edit((p) => {
        const opened = withGraphAt(p, get().scope, tidy(result.graph));
        // A user block nothing uses any more leaves the palette with its last use.
        const name = node.type === 'Block' ? String(node.params.block) : null;
        if (name === null || blockInUse(opened, name)) return opened;
        const { [name]: _gone, ...blocks } = opened.blocks;
        return { ...opened, blocks };
      });
      set({ selection: result.ids, selectedEdges: [] });
      // The layers that came out take more room than the block did: show the whole graph.
      get().requestView();
      return null;
    },

    enterBlock(nodeId) {
      const state = get();
      const node = currentGraph(state).nodes.find((n) => n.id === nodeId);
      const name = node?.type === 'Block' ? String(node.params.block) : '';
      if (!Object.hasOwn(state.project.blocks, name)) return false;
      const arranged = state.arranged[name] ?? needsLayout(state.project.blocks[name]);
      set({
        arranged: { ...state.arranged, [name]: arranged },
        scope: [...state.scope, { block: name, path: pathOf(state, nodeId) }],
        selection: [],
        selectedEdges: [],
        view: fitNext(),
      });
      return true;
    },

    leaveBlock(depth) {
      const { scope } = get();
      if (depth >= scope.length) return;
      const leaving = scope[depth];
      set({
        scope: scope.slice(0, depth),
        // Back out, the block one came from is selected.
        selection: [leaving.path.slice(leaving.path.lastIndexOf('/') + 1)],
        selectedEdges: [],
        view: fitNext(),
      });
    },

    reveal(pathId, field) {
      get().leaveBlock(0);
      const parts = pathId.split('/');
      for (const [i, id] of parts.entries()) {
        const last = i === parts.length - 1;
        if (last || !get().enterBlock(id)) {
          // Inside a catalog block, the block itself is what the user can change.
          set({
            selection: [id],
            selectedEdges: [],
            focus: field && last ? { path: pathId, field } : null,
            view: { seq: get().view.seq + 1, centre: id, onlyIfHidden: true },
          });
          return;
        }
      }
    },

    setCanvasSize(size) {
      set({ canvasSize: size });
    },

    viewMoved() {
      fitAskedAt = 0;
    },

    requestFit() {
      set({ view: { ...fitNext(), whole: true } });
    },

    requestView(nodeId, ifHidden) {
      set({
        view: nodeId
          ? { seq: get().view.seq + 1, centre: nodeId, onlyIfHidden: ifHidden }
          : fitNext(),
      });
    },

    showNotice(notice) {
      set({ notice });
    },

    setHint(hint) {
      if (hint !== get().hint) set({ hint });
    },
  };
});

/** Why a block cannot be added inside itself (or inside a block it contains), or null. */
function containsItself(
  scope: ScopeStep[],
  type: string,
  params: Record<string, unknown> | undefined,
): string | null {
  if (type !== 'Block') return null;
  const name = String(params?.block ?? '');
  return scope.some((step) => step.block === name)
    ? `the block '${name}' cannot contain itself`
    : null;
}

function blockInUse(project: Project, name: string): boolean {
  const uses = (graph: Graph) =>
    graph.nodes.some((n) => n.type === 'Block' && n.params.block === name);
  return uses(project) || Object.values(project.blocks).some(uses);
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The document as it is written to a file. */
export function projectText(project: Project): string {
  return `${JSON.stringify(project, null, 2)}\n`;
}
