/**
 * The Train area: settings on the left; run controls, live curves, layer
 * statistics and past runs on the right. Training itself runs in the host's
 * worker; this view only sends commands and draws the events it receives.
 */
import { useEffect, useMemo } from 'react';
import { classifierOutputIssue } from '../../core/classifier-output';
import { resolveTrainOptions } from '../../core/training/options';
import { useApi } from '../api/context';
import { useStudio } from '../state/store';
import { CurvesChart } from './CurvesChart';
import { LayerStatsPanel } from './LayerStatsPanel';
import { RunProgress } from './RunProgress';
import { RunsList } from './RunsList';
import { connectTraining, loadDatasets, setSmoothing, setTarget, useTraining } from './store';
import { TrainSettings } from './TrainSettings';
import './training.css';

export default function TrainView({
  showInEditor,
}: {
  /** Goes to the editor with a layer (and the field that fixes a problem) selected. */
  showInEditor(pathId: string, field?: string): void;
}) {
  const api = useApi();
  const project = useStudio((s) => s.project);
  const projectPath = useStudio((s) => s.path);
  const inference = useStudio((s) => s.inference);
  const overrides = useTraining((s) => s.overrides);
  // A boolean, not the run: this view must not re-render on every batch.
  const running = useTraining((s) =>
    Boolean(s.live && ['starting', 'running', 'paused'].includes(s.live.status)),
  );
  const message = useTraining((s) => s.message);
  const smoothing = useTraining((s) => s.smoothing);
  const resolved = useMemo(() => {
    try {
      return { options: resolveTrainOptions(project, overrides) };
    } catch (error) {
      // A setting the engine would refuse: show why, keep the project's own settings in the form.
      return { options: resolveTrainOptions(project), problem: (error as Error).message };
    }
  }, [project, overrides]);
  const { options, problem } = resolved;

  useEffect(() => connectTraining(api), [api]);
  useEffect(
    () => setTarget({ project, projectPath: projectPath ?? undefined }),
    [project, projectPath],
  );
  useEffect(() => void loadDatasets(options.dataDir), [options.dataDir]);

  const problems = inference.issues.length;
  const datasets = useTraining((s) => s.datasets);
  const dataset = datasets?.find((d) => d.name === options.dataset);
  // A network whose output does not give one score per class cannot train on this dataset.
  const mismatch = dataset?.classes
    ? classifierOutputIssue(inference, dataset.classes.length, dataset.label)
    : null;
  const why =
    problems > 0
      ? `fix the network's ${problems} problem${problems === 1 ? '' : 's'} first`
      : (problem ?? (mismatch ? `the network's output does not fit ${dataset?.label}` : null));

  return (
    <div className="train-view">
      <aside className="train-side">
        <h2>Train {project.name}</h2>
        <TrainSettings options={options} disabled={running} />
      </aside>
      <main className="train-main">
        <RunProgress
          options={options}
          dataset={dataset}
          canStart={why === null && !running}
          why={why}
        />
        {problem ? (
          <p className="notice error" role="alert">
            {problem}
          </p>
        ) : null}
        {problems > 0 ? (
          <p className="notice error" role="alert">
            The network has {problems} problem{problems === 1 ? '' : 's'} to fix in the editor
            before it can train.{' '}
            <button
              type="button"
              className="link"
              onClick={() =>
                showInEditor(inference.issues[0].nodeId ?? '', inference.issues[0].field)
              }
            >
              Show the first
            </button>
          </p>
        ) : null}
        {mismatch ? (
          <p className="notice error" role="alert" data-testid="output-mismatch">
            Cannot train yet: {mismatch.message}.{' '}
            {mismatch.nodeId && (
              <button
                type="button"
                className="link"
                onClick={() => showInEditor(mismatch.nodeId!, mismatch.field)}
              >
                Show it in the editor
              </button>
            )}
          </p>
        ) : null}
        {message ? (
          <p className="notice error" role="alert" data-testid="training-message">
            {message}
          </p>
        ) : null}
        <section className="curves" aria-label="Training curves">
          <div className="curves-header">
            <h3>Curves</h3>
            <label className="smoothing">
              Smoothing
              <input
                type="range"
                min={0}
                max={0.99}
                step={0.01}
                value={smoothing}
                onChange={(e) => setSmoothing(Number(e.target.value))}
              />
              <span>{smoothing.toFixed(2)}</span>
            </label>
          </div>
          <CurvesChart />
          <p className="hint">
            Drag across the chart to zoom in, double-click to zoom out. Tick past runs below to
            compare.
          </p>
        </section>
        <LayerStatsPanel />
        <RunsList />
      </main>
    </div>
  );
}
