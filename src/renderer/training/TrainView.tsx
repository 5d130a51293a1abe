/**
 * The Train area: settings on the left; run controls, live curves, layer
 * statistics and past runs on the right. Training itself runs in the host's
 * worker; this view only sends commands and draws the events it receives.
 */
import { useEffect, useMemo } from 'react';
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

export default function TrainView() {
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

  return (
    <div className="train-view">
      <aside className="train-side">
        <h2>Train {project.name}</h2>
        <TrainSettings options={options} disabled={running} />
      </aside>
      <main className="train-main">
        <RunProgress options={options} canStart={problems === 0 && !problem && !running} />
        {problem ? (
          <p className="notice error" role="alert">
            {problem}
          </p>
        ) : null}
        {problems > 0 ? (
          <p className="notice error" role="alert">
            The network has {problems} problem{problems === 1 ? '' : 's'} to fix in the editor
            before it can train.
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
