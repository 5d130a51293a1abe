/**
 * Export dialog: choose a format, the weights (a run's, imported ones, or
 * fresh ones) and a folder in the project folder; see the files that will be
 * written (or why the graph cannot be exported, naming the node) before
 * writing; then the result. It also opens a model (TF.js Layers, ONNX) as a
 * project, asking which output to keep when it has several, and brings weights
 * trained in PyTorch back as a run of their project.
 */
import { useEffect, useMemo, useState } from 'react';
import type {
  ExportFormatInfo,
  ExportFormatName,
  ExportPlan,
  ExportRequest,
  ExportWeights,
} from '../../api/export-api';
import type { DatasetStatus, RunSummary } from '../../api/training-api';
import { classifierOutputIssue } from '../../core/classifier-output';
import { formatBytes } from '../../core/summary';
import { useApi } from '../api/context';
import { downloadLink } from '../api/downloads';
import { confirmDiscard, documentStem, openProjectText } from '../files/project-files';
import { useStudio } from '../state/store';
import { refreshRuns, useTraining } from '../training/store';
import './export.css';

/** The last TF.js model opened here: its project's name and where its weights were saved. */
let lastImport: { projectName: string; folder: string } | null = null;
const IMPORTED = 'imported';

export default function ExportDialog({ onClose }: { onClose(): void }) {
  const api = useApi();
  const project = useStudio((s) => s.project);
  const projectPath = useStudio((s) => s.path) ?? undefined;
  const [formats, setFormats] = useState<ExportFormatInfo[]>([]);
  const [format, setFormat] = useState<ExportFormatName>('onnx');
  const [runs, setRuns] = useState<RunSummary[]>([]);
  /** '' (fresh), IMPORTED, or a run id. */
  const [weightsChoice, setWeightsChoice] = useState<string>('');
  const [importPath, setImportPath] = useState('');
  const [importNotes, setImportNotes] = useState<string[]>([]);
  /** A model with several outputs: the ones to choose from, and the choice. */
  const [outputs, setOutputs] = useState<string[]>([]);
  const [output, setOutput] = useState('');
  /** Why the last import failed (apart from the export's own problem, which plans refresh). */
  const [importProblem, setImportProblem] = useState<string | null>(null);
  /** A run just made from weights trained in PyTorch: listed again and chosen. */
  const [importedRun, setImportedRun] = useState<string | null>(null);
  const imported = lastImport?.projectName === project.name ? lastImport : null;
  const [folder, setFolder] = useState('');
  const [folderEdited, setFolderEdited] = useState(false);
  const [plan, setPlan] = useState<ExportPlan | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [result, setResult] = useState<ExportPlan | null>(null);
  const [busy, setBusy] = useState(false);
  const outputNote = useOutputNote();

  useEffect(() => {
    void api.exportFormats().then((r) => (r.ok ? setFormats(r.value) : setProblem(r.error)));
    void api.trainingRuns({ project, projectPath }).then((r) => {
      if (!r.ok) return;
      const withWeights = r.value.filter((run) => run.hasWeights);
      setRuns(withWeights);
      // Imported or the newest trained weights by default: that is what people mean to export.
      if (importedRun && withWeights.some((run) => run.id === importedRun))
        setWeightsChoice(importedRun);
      else if (lastImport?.projectName === project.name) setWeightsChoice(IMPORTED);
      else if (withWeights.length > 0) setWeightsChoice(withWeights[0].id);
    });
  }, [api, project, projectPath, importedRun]);

  useEffect(() => {
    // Named after the project's file (or the project, before it has one).
    if (!folderEdited)
      setFolder(`exports/${documentStem(project.name, projectPath ?? null)}-${format}`);
  }, [format, project.name, projectPath, folderEdited]);

  const request = useMemo<ExportRequest>(() => {
    const weights: ExportWeights =
      weightsChoice === IMPORTED && imported
        ? { kind: 'folder', folder: imported.folder }
        : weightsChoice && weightsChoice !== IMPORTED
          ? { kind: 'run', runId: weightsChoice }
          : { kind: 'initial' };
    return { target: { project, projectPath }, weights, format, folder: folder.trim() };
  }, [project, projectPath, weightsChoice, imported, format, folder]);

  useEffect(() => {
    if (!request.folder) return;
    let current = true;
    setResult(null);
    const timer = setTimeout(() => {
      void api.exportPlan(request).then((r) => {
        if (!current) return;
        setPlan(r.ok ? r.value : null);
        setProblem(r.ok ? null : r.error);
      });
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, request]);

  const write = async () => {
    // Files the studio did not write are replaced only when the user says so.
    const foreign = plan?.files.filter((file) => file.foreign).map((file) => file.path) ?? [];
    if (
      foreign.length > 0 &&
      !window.confirm(
        `${plan?.folder} already holds ${foreign.join(', ')}, which the studio did not write (or which changed since). Replace ${foreign.length === 1 ? 'it' : 'them'}?`,
      )
    ) {
      return;
    }
    setBusy(true);
    const r = await api.exportModel({ ...request, overwrite: foreign.length > 0 });
    setBusy(false);
    if (r.ok) {
      setResult(r.value);
      setProblem(null);
    } else setProblem(r.error);
  };

  const openImport = async (chosenOutput?: string) => {
    const path = importPath.trim();
    // Weights of the open project replace nothing: asked only when their project must open.
    const weightsOnly = /\.safetensors$/i.test(path);
    if (!weightsOnly && !confirmDiscard(`Open ${path}`)) return;
    const r = await api.importModel({
      path,
      output: chosenOutput,
      openProject: { name: project.name, path: projectPath },
    });
    setImportProblem(r.ok ? null : r.error);
    if (!r.ok) return;
    if (r.value.kind === 'run') {
      const { runId, notes } = r.value;
      setOutputs([]);
      if (!r.value.openProject) {
        const opened =
          confirmDiscard(`Open the project of ${path}`) &&
          openProjectText(r.value.text, null, path);
        if (!opened) {
          setImportNotes([
            ...notes,
            "the project open here is another; open the package's project.json to see the run",
          ]);
          return;
        }
      }
      lastImport = null;
      setImportedRun(runId);
      setImportNotes(notes);
      void refreshRuns();
      return;
    }
    if (r.value.kind === 'choose-output') {
      setOutputs(r.value.outputs);
      setOutput(r.value.outputs[0]);
      return;
    }
    setOutputs([]);
    if (!openProjectText(r.value.text, null, importPath)) return;
    lastImport = { projectName: useStudio.getState().project.name, folder: r.value.weightsFolder };
    setWeightsChoice(IMPORTED);
    setImportNotes([...r.value.notes, `weights saved in ${r.value.weightsFolder}`]);
  };

  const shown = result ?? plan;
  // The folder as it is now: just written, or holding an earlier export.
  const zipLink =
    (result || plan?.files.some((file) => file.replaces)) &&
    downloadLink({ kind: 'export', folder: request.folder });
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label="Export">
      <div className="modal export-dialog">
        <header className="modal-head">
          <h2>Export “{project.name}”</h2>
          <button type="button" className="button" onClick={onClose}>
            {result ? 'Done' : 'Cancel'}
          </button>
        </header>
        {outputNote && (
          <p className="export-note" role="note" data-testid="export-output-note">
            Note: {outputNote}. It exports as drawn, but cannot be trained on that dataset here.
          </p>
        )}
        <fieldset className="export-formats">
          <legend>Format</legend>
          {formats.map((f) => (
            <label key={f.format}>
              <input
                type="radio"
                name="export-format"
                value={f.format}
                checked={format === f.format}
                onChange={() => setFormat(f.format)}
                data-testid={`export-format-${f.format}`}
              />
              {f.label}
            </label>
          ))}
        </fieldset>
        <div className="export-row">
          <label htmlFor="export-weights">Weights</label>
          <select
            id="export-weights"
            value={weightsChoice}
            onChange={(e) => setWeightsChoice(e.target.value)}
            data-testid="export-weights"
          >
            {imported && <option value={IMPORTED}>Imported ({imported.folder})</option>}
            {runs.map((run) => (
              <option key={run.id} value={run.id}>
                Run {run.id}
                {run.last ? ` (val acc ${(run.last.valAcc * 100).toFixed(1)}%)` : ''}
              </option>
            ))}
            <option value="">Fresh (initialised as training would start)</option>
          </select>
        </div>
        <div className="export-row">
          <label htmlFor="export-folder">Folder</label>
          <input
            id="export-folder"
            type="text"
            value={folder}
            onChange={(e) => {
              setFolder(e.target.value);
              setFolderEdited(true);
            }}
            data-testid="export-folder"
          />
        </div>
        {problem && (
          <p className="field-error" role="alert" data-testid="export-problem">
            {problem}
          </p>
        )}
        {shown && !problem && (
          <section className="export-files" data-testid={result ? 'export-result' : 'export-plan'}>
            <p className="muted">
              {result ? 'Wrote' : 'Will write'} into {shown.folder} · weights: {shown.weights}
            </p>
            <table>
              <tbody>
                {shown.files.map((file) => (
                  <tr key={file.path}>
                    <td className="export-path">{file.path}</td>
                    <td className="export-size">{formatBytes(file.bytes)}</td>
                    <td>
                      {file.description}
                      {file.replaces && (
                        <span className="export-replaces">
                          {result
                            ? ' (replaced the file that was there)'
                            : file.foreign
                              ? ' (replaces a file the studio did not write: you will be asked)'
                              : ' (replaces the earlier export)'}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {zipLink && (
              <a className="button" href={zipLink} download data-testid="export-download">
                {result ? 'Download as zip' : 'Download the folder as it is now (zip)'}
              </a>
            )}
          </section>
        )}
        <details className="export-import">
          <summary>
            Open a model (TensorFlow.js Layers or ONNX) as a project, or weights trained in PyTorch
            as a run
          </summary>
          <form
            className="export-row"
            onSubmit={(e) => {
              e.preventDefault();
              void openImport();
            }}
          >
            <input
              type="text"
              value={importPath}
              placeholder="folder/model.json, model.onnx or a PyTorch package's .safetensors"
              onChange={(e) => {
                setImportPath(e.target.value);
                setOutputs([]);
              }}
              aria-label="model file to open"
              data-testid="import-path"
            />
            <button
              type="submit"
              className="button"
              disabled={!importPath.trim()}
              data-testid="import-open"
            >
              Open
            </button>
          </form>
          {outputs.length > 0 && (
            <form
              className="import-outputs"
              onSubmit={(e) => {
                e.preventDefault();
                void openImport(output);
              }}
              data-testid="import-outputs"
            >
              <p className="muted">
                The model has {outputs.length} outputs and a network has one: choose the one to keep
                (the layers that feed only the others are left out).
              </p>
              <div className="export-row">
                <label htmlFor="import-output">Output</label>
                <select
                  id="import-output"
                  value={output}
                  onChange={(e) => setOutput(e.target.value)}
                  data-testid="import-output"
                >
                  {outputs.map((name) => (
                    <option key={name} value={name}>
                      {name}
                    </option>
                  ))}
                </select>
                <button type="submit" className="button" data-testid="import-output-open">
                  Open with this output
                </button>
              </div>
            </form>
          )}
          {importProblem && (
            <p className="field-error" role="alert" data-testid="import-problem">
              {importProblem}
            </p>
          )}
          {importNotes.length > 0 && (
            <ul className="muted" data-testid="import-notes">
              {importNotes.map((note) => (
                <li key={note}>{note}</li>
              ))}
            </ul>
          )}
        </details>
        <footer className="export-actions">
          <button
            type="button"
            className="button primary"
            disabled={busy || !plan || problem !== null || result !== null}
            onClick={() => void write()}
            data-testid="export-write"
          >
            {busy ? 'Exporting…' : 'Export'}
          </button>
        </footer>
      </div>
    </div>
  );
}

/**
 * Why the network cannot train on its project's dataset (its output does not
 * give one score per class), or null: the export is still offered, with this
 * note.
 */
function useOutputNote(): string | null {
  const api = useApi();
  const inference = useStudio((s) => s.inference);
  const training = useStudio((s) => s.project.training);
  const chosen = useTraining((s) => s.overrides);
  const [dataset, setDataset] = useState<DatasetStatus | null>(null);
  // The dataset the Train area would train on: as chosen there, else the project's.
  const name = chosen.dataset ?? training?.dataset ?? 'fashion-mnist';
  const dataDir = chosen.dataDir ?? training?.dataDir;
  useEffect(() => {
    void (dataDir ? api.trainingDatasets(dataDir) : api.trainingDatasets()).then((r) =>
      setDataset(r.ok ? (r.value.find((d) => d.name === name) ?? null) : null),
    );
  }, [api, name, dataDir]);
  if (!dataset?.classes) return null;
  return classifierOutputIssue(inference, dataset.classes.length, dataset.label)?.message ?? null;
}
