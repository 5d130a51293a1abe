/** The studio's shell: top bar with file actions, Design / Train / Evaluate areas, dialogs and notices. */
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { HostInfo, Recovery } from '../../api/project-api';
import type { Project } from '../../core/document/schema';
import { useApi } from '../api/context';
import { BlockView } from '../editor/BlockView';
import { Canvas, type MenuRequest } from '../editor/Canvas';
import { ContextMenu } from '../editor/ContextMenu';
import { GroupDialog } from '../editor/GroupDialog';
import { Inspector } from '../editor/Inspector';
import { LayerPicker, type PickerRequest } from '../editor/LayerPicker';
import { Palette } from '../editor/Palette';
import { SummaryPanel } from '../editor/SummaryPanel';
import { FileDialog } from '../files/FileDialog';
import { PresetGallery } from '../files/PresetGallery';
import {
  downloadProject,
  newProject,
  openFromHost,
  openLocalFile,
  openPreset,
  openProjectText,
  rememberedDocument,
  saveTo,
  startAutosave,
} from '../files/project-files';
import { StartPage } from '../files/StartPage';
import { layoutDirectionOf } from '../state/layout';
import { useStudio } from '../state/store';
import { ActionButton, ActionsProvider } from './ActionsProvider';
import type { ActionHost, Dialog } from './actions';
import { HelpPanel } from './HelpPanel';

const TrainView = lazy(() => import('../training/TrainView'));
const EvaluateView = lazy(() => import('../evaluation/EvaluateView'));
const ExportDialog = lazy(() => import('../export/ExportDialog'));

type Area = 'design' | 'train' | 'evaluate';

export function App() {
  return (
    <ReactFlowProvider>
      <Studio />
    </ReactFlowProvider>
  );
}

/** The shell; inside React Flow's provider, since canvas commands need its view. */
function Studio() {
  const api = useApi();
  const flow = useReactFlow();
  const [area, setArea] = useState<Area>('design');
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [host, setHost] = useState<HostInfo | null>(null);
  const [recovery, setRecovery] = useState<Recovery | null>(null);
  const [blockInside, setBlockInside] = useState<string | null>(null);
  const [menu, setMenu] = useState<MenuRequest | null>(null);
  const [picker, setPicker] = useState<PickerRequest | null>(null);
  const [minimap, setMinimap] = useState(true);
  const notice = useStudio((s) => s.notice);
  // What is open, for commands that close it (Escape) without re-creating the command host.
  const open = useRef({ dialog, blockInside, menu, picker, minimap });
  open.current = { dialog, blockInside, menu, picker, minimap };

  useEffect(() => {
    void boot(api, setHost, setRecovery, () => setDialog('start'));
    return startAutosave(api);
  }, [api]);

  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (useStudio.getState().dirty) event.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, []);

  useEffect(() => {
    // Dropping a project file anywhere on the window opens it (palette drags carry no files).
    const over = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      void openLocalFile(file);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);

  const save = useCallback(async () => {
    const { path } = useStudio.getState();
    if (!path) {
      setDialog('saveAs');
      return;
    }
    const problem = await saveTo(api, path, true);
    if (problem)
      useStudio
        .getState()
        .showNotice({ kind: 'error', title: `Could not save ${path}`, lines: [problem] });
  }, [api]);

  const actionHost = useMemo<ActionHost>(
    () => ({
      openDialog: setDialog,
      closeOverlay() {
        const { dialog, blockInside, menu, picker } = open.current;
        if (menu) setMenu(null);
        else if (picker) setPicker(null);
        else if (dialog) setDialog(null);
        else if (blockInside) setBlockInside(null);
        else return false;
        return true;
      },
      save: () => void save(),
      newProject: () => void newProject(),
      // Through the store, so a layout settling right after still ends fitted.
      fitView: () => useStudio.getState().requestFit(),
      zoom(by) {
        useStudio.getState().viewMoved();
        void (by === 'in' ? flow.zoomIn({ duration: 150 }) : flow.zoomOut({ duration: 150 }));
      },
      showBlockInside: setBlockInside,
      pickLayer(place) {
        const from = open.current.menu;
        const pane = document.querySelector('.canvas')?.getBoundingClientRect();
        const centre = pane
          ? { x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 }
          : { x: 400, y: 300 };
        // From the keyboard: the picker near the top of the canvas, the layer in its middle.
        const x = from?.x ?? centre.x - 140;
        const y = from?.y ?? (pane ? pane.top + 40 : 100);
        setPicker({ place, x, y, at: from?.at ?? flow.screenToFlowPosition(centre) });
      },
      toggleMinimap: () => setMinimap((shown) => !shown),
    }),
    [flow, save],
  );

  const onCanvas =
    area === 'design' &&
    dialog === null &&
    blockInside === null &&
    menu === null &&
    picker === null;

  return (
    <ActionsProvider host={actionHost} onCanvas={onCanvas}>
      <div className="app">
        <TopBar area={area} setArea={setArea} host={host} />
        {recovery && (
          <div className="banner info" role="status">
            Unsaved work from {new Date(recovery.savedAt).toLocaleString()}
            {recovery.path ? ` (${recovery.path})` : ''} can be recovered.
            <button
              type="button"
              className="button"
              onClick={() => {
                if (openProjectText(recovery.text, recovery.path, 'the recovered project'))
                  useStudio.setState({ dirty: true });
                setRecovery(null);
              }}
            >
              Recover
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                void api.discardRecovery();
                setRecovery(null);
              }}
            >
              Discard
            </button>
          </div>
        )}
        {notice && (
          <div className={`banner ${notice.kind}`} role="alert" data-testid="notice">
            <div>
              <strong>{notice.title}</strong>
              <ul>
                {notice.lines.map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </div>
            <button
              type="button"
              className="button"
              onClick={() => useStudio.getState().showNotice(null)}
            >
              Dismiss
            </button>
          </div>
        )}
        <main className={`area area-${area}`}>
          {area === 'design' && (
            <div className="design">
              <Palette />
              <div className="centre">
                <CanvasToolbar minimap={minimap} />
                <Canvas onContextMenu={setMenu} minimap={minimap} />
                <SummaryPanel />
              </div>
              <Inspector />
            </div>
          )}
          <Suspense fallback={<p className="muted pad">Loading…</p>}>
            {area === 'train' && (
              <TrainView
                showInEditor={(pathId, field) => {
                  setArea('design');
                  useStudio.getState().reveal(pathId, field);
                }}
              />
            )}
            {area === 'evaluate' && <EvaluateView />}
          </Suspense>
        </main>
        {dialog === 'open' && <FileDialog mode="open" onClose={() => setDialog(null)} />}
        {dialog === 'saveAs' && <FileDialog mode="saveAs" onClose={() => setDialog(null)} />}
        {dialog === 'presets' && <PresetGallery onClose={() => setDialog(null)} />}
        {dialog === 'start' && (
          <StartPage onClose={() => setDialog(null)} onOpen={() => setDialog('open')} />
        )}
        {dialog === 'help' && <HelpPanel onClose={() => setDialog(null)} />}
        {dialog === 'group' && <GroupDialog onClose={() => setDialog(null)} />}
        {dialog === 'export' && (
          <Suspense fallback={null}>
            <ExportDialog onClose={() => setDialog(null)} />
          </Suspense>
        )}
        {blockInside && <BlockView pathId={blockInside} onClose={() => setBlockInside(null)} />}
        {menu && <ContextMenu request={menu} onClose={() => setMenu(null)} />}
        {picker && <LayerPicker request={picker} onClose={() => setPicker(null)} />}
      </div>
    </ActionsProvider>
  );
}

/**
 * What the window opens with: after a reload, what this tab had open; else
 * the project given to the host; else LeNet, with the start page over it.
 */
async function boot(
  api: ReturnType<typeof useApi>,
  setHost: (h: HostInfo) => void,
  setRecovery: (r: Recovery | null) => void,
  showStartPage: () => void,
) {
  const info = await api.hostInfo();
  if (!info.ok) {
    useStudio
      .getState()
      .showNotice({ kind: 'error', title: 'The studio host did not answer', lines: [info.error] });
    return;
  }
  setHost(info.value);
  const open = rememberedDocument() ?? info.value.startup;
  const opened =
    open.kind === 'preset'
      ? await openPreset(api, open.name)
      : open.kind === 'file'
        ? await openFromHost(api, open.path)
        : rememberedDocument() !== null;
  if (!opened) {
    // Why the last file did not open stays in view over the start page.
    const { notice } = useStudio.getState();
    await openPreset(api, 'lenet');
    useStudio.getState().showNotice(notice);
    showStartPage();
  }
  const recovery = await api.recovery();
  if (recovery.ok && recovery.value) setRecovery(recovery.value);
}

function TopBar({
  area,
  setArea,
  host,
}: {
  area: Area;
  setArea(a: Area): void;
  host: HostInfo | null;
}) {
  const name = useStudio((s) => s.project.name);
  const path = useStudio((s) => s.path);
  const dirty = useStudio((s) => s.dirty);
  const upload = (file: File | undefined) => file && void openLocalFile(file);
  return (
    <header className="topbar">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          ◧
        </span>
        ConvNet Studio
      </div>
      <div className="doc-title" title={path ?? 'not saved yet'} data-testid="doc-title">
        {name}
        <span className="muted">{path ? ` — ${path}` : ' — not saved'}</span>
        {dirty && (
          <span className="dirty" title="unsaved changes" role="img" aria-label="unsaved changes" />
        )}
      </div>
      <nav className="tabs" aria-label="Areas">
        {(['design', 'train', 'evaluate'] as const).map((a) => (
          <button
            key={a}
            type="button"
            className={area === a ? 'tab active' : 'tab'}
            onClick={() => setArea(a)}
          >
            {a[0].toUpperCase() + a.slice(1)}
          </button>
        ))}
      </nav>
      <div className="actions">
        <ActionButton id="new" />
        <ActionButton id="presets" />
        <ActionButton id="open" />
        <ActionButton id="save" />
        <ActionButton id="saveAs" />
        <button
          type="button"
          className="button"
          onClick={downloadProject}
          title="Download the project file"
        >
          ↓
        </button>
        <label className="button" title="Open a project file from this computer">
          ↑
          <input
            type="file"
            accept=".json,application/json"
            hidden
            onChange={(e) => upload(e.target.files?.[0])}
          />
        </label>
        <ActionButton id="export" className="button primary" />
        <ActionButton id="help">?</ActionButton>
      </div>
      {host && <span className="host-tag">{host.host === 'web' ? 'web host' : 'desktop'}</span>}
    </header>
  );
}

/** Above the canvas: where one is (inside which block), editing and view commands. */
function CanvasToolbar({ minimap }: { minimap: boolean }) {
  const scope = useStudio((s) => s.scope);
  const direction = useStudio((s) => layoutDirectionOf(s.project));
  const uses = useStudio((s) => {
    const open = s.scope.at(-1)?.block;
    return open ? countUses(s.project, open) : 0;
  });
  return (
    <div className="canvas-toolbar">
      {scope.length > 0 && (
        <nav className="trail" aria-label="Editing inside">
          <button type="button" className="link" onClick={() => useStudio.getState().leaveBlock(0)}>
            Project
          </button>
          {scope.map((step, i) => (
            <button
              key={step.path}
              type="button"
              className="link"
              disabled={i === scope.length - 1}
              onClick={() => useStudio.getState().leaveBlock(i + 1)}
            >
              {step.block}
            </button>
          ))}
          <span className="muted" data-testid="block-uses">
            {uses === 1 ? 'used once' : `used ${uses} times: every use changes`}
          </span>
        </nav>
      )}
      <ActionButton id="undo" />
      <ActionButton id="redo" />
      <span className="toolbar-gap" />
      <ActionButton id="layout" />
      <fieldset className="segmented" aria-label="Layout direction">
        <ActionButton id="layoutTopDown" className={`button${direction === 'TB' ? ' on' : ''}`}>
          ↓
        </ActionButton>
        <ActionButton id="layoutLeftRight" className={`button${direction === 'LR' ? ' on' : ''}`}>
          →
        </ActionButton>
      </fieldset>
      <span className="toolbar-gap" />
      <ActionButton id="zoomOut">−</ActionButton>
      <ActionButton id="fit" />
      <ActionButton id="zoomIn">+</ActionButton>
      <ActionButton id="minimap" className={`button${minimap ? ' on' : ''}`} />
    </div>
  );
}

/** How many Block nodes use the block, at any depth. */
function countUses(project: Project, name: string): number {
  const count = (graph: Pick<Project, 'nodes'>) =>
    graph.nodes.filter((n) => n.type === 'Block' && n.params.block === name).length;
  return count(project) + Object.values(project.blocks).reduce((sum, b) => sum + count(b), 0);
}
