/** The studio's shell: top bar with file actions, Design / Train / Evaluate areas, dialogs and notices. */
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type { HostInfo, Recovery } from '../../api/project-api';
import { useApi } from '../api/context';
import { BlockView } from '../editor/BlockView';
import { Canvas } from '../editor/Canvas';
import { Inspector } from '../editor/Inspector';
import { Palette } from '../editor/Palette';
import { SummaryPanel } from '../editor/SummaryPanel';
import { FileDialog } from '../files/FileDialog';
import { PresetGallery } from '../files/PresetGallery';
import {
  confirmDiscard,
  downloadProject,
  openFromHost,
  openLocalFile,
  openPreset,
  openProjectText,
  saveTo,
  startAutosave,
} from '../files/project-files';
import { useStudio } from '../state/store';
import { HelpPanel } from './HelpPanel';
import { type CommandId, findShortcut } from './shortcuts';

const TrainView = lazy(() => import('../training/TrainView'));
const EvaluateView = lazy(() => import('../evaluation/EvaluateView'));
const ExportDialog = lazy(() => import('../export/ExportDialog'));

type Area = 'design' | 'train' | 'evaluate';
type Dialog = 'open' | 'saveAs' | 'presets' | 'help' | 'export' | null;

export function App() {
  const api = useApi();
  const [area, setArea] = useState<Area>('design');
  const [dialog, setDialog] = useState<Dialog>(null);
  const [host, setHost] = useState<HostInfo | null>(null);
  const [recovery, setRecovery] = useState<Recovery | null>(null);
  const [openBlock, setOpenBlock] = useState<string | null>(null);
  const notice = useStudio((s) => s.notice);

  useEffect(() => {
    void boot(api, setHost, setRecovery);
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

  const openBlockView = useCallback((nodeId: string) => setOpenBlock(nodeId), []);

  return (
    <div className="app">
      <TopBar area={area} setArea={setArea} setDialog={setDialog} save={save} host={host} />
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
      <ReactFlowProvider>
        <Shortcuts
          area={area}
          dialogOpen={dialog !== null || openBlock !== null}
          run={(command) => {
            if (command === 'escape') {
              setDialog(null);
              setOpenBlock(null);
            } else if (command === 'save') void save();
            else if (command === 'saveAs') setDialog('saveAs');
            else if (command === 'open') setDialog('open');
            else if (command === 'presets') setDialog('presets');
            else if (command === 'help') setDialog('help');
            else if (command === 'new' && confirmDiscard('Start a new project'))
              useStudio.getState().newProject();
          }}
        />
        <main className={`area area-${area}`}>
          {area === 'design' && (
            <div className="design">
              <Palette />
              <div className="centre">
                <CanvasToolbar />
                <Canvas onOpenBlock={openBlockView} />
                <SummaryPanel />
              </div>
              <Inspector onOpenBlock={openBlockView} />
            </div>
          )}
          <Suspense fallback={<p className="muted pad">Loading…</p>}>
            {area === 'train' && <TrainView />}
            {area === 'evaluate' && <EvaluateView />}
          </Suspense>
        </main>
      </ReactFlowProvider>
      {dialog === 'open' && <FileDialog mode="open" onClose={() => setDialog(null)} />}
      {dialog === 'saveAs' && <FileDialog mode="saveAs" onClose={() => setDialog(null)} />}
      {dialog === 'presets' && <PresetGallery onClose={() => setDialog(null)} />}
      {dialog === 'help' && <HelpPanel onClose={() => setDialog(null)} />}
      {dialog === 'export' && (
        <Suspense fallback={null}>
          <ExportDialog onClose={() => setDialog(null)} />
        </Suspense>
      )}
      {openBlock && <BlockView nodeId={openBlock} onClose={() => setOpenBlock(null)} />}
    </div>
  );
}

async function boot(
  api: ReturnType<typeof useApi>,
  setHost: (h: HostInfo) => void,
  setRecovery: (r: Recovery | null) => void,
) {
  const info = await api.hostInfo();
  if (!info.ok) {
    useStudio
      .getState()
      .showNotice({ kind: 'error', title: 'The studio host did not answer', lines: [info.error] });
    return;
  }
  setHost(info.value);
  const { startup } = info.value;
  if (startup.kind === 'preset') await openPreset(api, startup.name);
  else if (startup.kind === 'file') await openFromHost(api, startup.path);
  const recovery = await api.recovery();
  if (recovery.ok && recovery.value) setRecovery(recovery.value);
}

function TopBar({
  area,
  setArea,
  setDialog,
  save,
  host,
}: {
  area: Area;
  setArea(a: Area): void;
  setDialog(d: Dialog): void;
  save(): void;
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
        <button
          type="button"
          className="button"
          onClick={() => confirmDiscard('Start a new project') && useStudio.getState().newProject()}
        >
          New
        </button>
        <button type="button" className="button" onClick={() => setDialog('presets')}>
          Presets
        </button>
        <button type="button" className="button" onClick={() => setDialog('open')}>
          Open…
        </button>
        <button type="button" className="button" onClick={save}>
          Save
        </button>
        <button type="button" className="button" onClick={() => setDialog('saveAs')}>
          Save as…
        </button>
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
        <button type="button" className="button primary" onClick={() => setDialog('export')}>
          Export
        </button>
        <button
          type="button"
          className="button"
          onClick={() => setDialog('help')}
          title="Keyboard shortcuts (?)"
        >
          ?
        </button>
      </div>
      {host && <span className="host-tag">{host.host === 'web' ? 'web host' : 'desktop'}</span>}
    </header>
  );
}

function CanvasToolbar() {
  const flow = useReactFlow();
  const canUndo = useStudio((s) => s.history.past.length > 0);
  const canRedo = useStudio((s) => s.history.future.length > 0);
  const store = useStudio.getState();
  return (
    <div className="canvas-toolbar">
      <button
        type="button"
        className="button"
        onClick={store.undo}
        disabled={!canUndo}
        title="Undo (Ctrl+Z)"
      >
        Undo
      </button>
      <button
        type="button"
        className="button"
        onClick={store.redo}
        disabled={!canRedo}
        title="Redo (Ctrl+Shift+Z)"
      >
        Redo
      </button>
      <button
        type="button"
        className="button"
        onClick={() => {
          store.autoLayout();
          requestAnimationFrame(() => void flow.fitView({ duration: 200 }));
        }}
        title="Automatic layout (L)"
      >
        Layout
      </button>
      <button
        type="button"
        className="button"
        onClick={() => void flow.fitView({ duration: 200 })}
        title="Zoom to fit (F)"
      >
        Fit
      </button>
    </div>
  );
}

/** The keyboard handler; canvas commands need React Flow's view, so it lives inside the provider. */
function Shortcuts({
  area,
  dialogOpen,
  run,
}: {
  area: Area;
  dialogOpen: boolean;
  run(command: CommandId): void;
}) {
  const flow = useReactFlow();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      const typing = target.closest('input, textarea, select, [contenteditable="true"]') !== null;
      const shortcut = findShortcut(event, typing);
      if (!shortcut) return;
      const store = useStudio.getState();
      const onCanvas = area === 'design' && !dialogOpen;
      const canvasCommands: Partial<Record<CommandId, () => void>> = {
        undo: store.undo,
        redo: store.redo,
        delete: store.deleteSelection,
        copy: store.copy,
        paste: store.paste,
        duplicate: () => {
          store.copy();
          store.paste();
        },
        selectAll: store.selectAll,
        layout: () => {
          store.autoLayout();
          requestAnimationFrame(() => void flow.fitView({ duration: 200 }));
        },
        fit: () => void flow.fitView({ duration: 200 }),
      };
      const canvasCommand = canvasCommands[shortcut.command];
      if (canvasCommand) {
        if (!onCanvas) return;
        event.preventDefault();
        canvasCommand();
        return;
      }
      if (shortcut.command === 'escape' && !dialogOpen) {
        store.select([]);
        return;
      }
      event.preventDefault();
      run(shortcut.command);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [area, dialogOpen, run, flow]);
  return null;
}
