/**
 * The project's runs, newest first; ticking a past one overlays its curves on
 * the chart, and one that ended before its last epoch (the studio crashed, it
 * was stopped or failed) can continue from its checkpoint.
 */
import type { RunSummary } from '../../api/training-api';
import { downloadLink } from '../api/downloads';
import { useStudio } from '../state/store';
import { continueRun, toggleCompare, useTraining } from './store';

/** Ended before its last epoch, with a checkpoint to continue from. */
const canContinue = (r: RunSummary) =>
  r.hasCheckpoint &&
  ['interrupted', 'stopped', 'failed'].includes(r.status) &&
  r.epochsDone < r.options.epochs;

export function RunsList() {
  const runs = useTraining((s) => s.runs);
  const compared = useTraining((s) => s.compared);
  const liveId = useTraining((s) => s.live?.runId);
  const projectPath = useStudio((s) => s.path) ?? undefined;
  const training = useTraining((s) =>
    Boolean(s.live && ['starting', 'running', 'paused'].includes(s.live.status)),
  );
  return (
    <section className="runs-list" aria-label="Past runs">
      <h3>Runs of this project</h3>
      {runs.length === 0 ? (
        <p className="hint">
          No runs yet. Runs are kept in runs/ beside the project file (in the workspace while it is
          unsaved) and appear here to compare.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Compare</th>
              <th>Started</th>
              <th>Status</th>
              <th>Epochs</th>
              <th>lr · batch</th>
              <th>Val acc</th>
              <th>Backend</th>
              <th>Weights</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id}>
                <td>
                  {r.id === liveId ? (
                    <span className="hint">shown</span>
                  ) : (
                    <input
                      type="checkbox"
                      aria-label={`Compare run ${r.id}`}
                      checked={Boolean(compared[r.id])}
                      onChange={() => void toggleCompare(r.id)}
                    />
                  )}
                </td>
                <td title={r.dir}>{new Date(r.startedAt).toLocaleString()}</td>
                <td className={`status-${r.status}`} title={r.error}>
                  {r.status}
                </td>
                <td>
                  {/* Done with no epoch of its own: weights trained elsewhere (PyTorch), brought back. */}
                  {r.status === 'done' && r.epochsDone === 0
                    ? '–'
                    : `${r.epochsDone} / ${r.options.epochs}`}
                </td>
                <td>
                  {r.options.lr} · {r.options.batchSize}
                </td>
                <td>{r.last ? `${(r.last.valAcc * 100).toFixed(1)}%` : '–'}</td>
                <td>{r.backend ?? '–'}</td>
                <td>
                  <WeightsLink runId={r.id} hasWeights={r.hasWeights} projectPath={projectPath} />
                </td>
                <td>
                  {canContinue(r) ? (
                    <button
                      type="button"
                      className="button"
                      disabled={training}
                      title={`Continue from its checkpoint to epoch ${r.options.epochs}`}
                      aria-label={`Continue run ${r.id}`}
                      onClick={() => void continueRun(r.id)}
                    >
                      ▶ Continue
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A run's weights.safetensors to this computer (web host); nothing before the first epoch ends. */
function WeightsLink(props: { runId: string; hasWeights: boolean; projectPath?: string }) {
  const href =
    props.hasWeights &&
    downloadLink({ kind: 'weights', runId: props.runId, projectPath: props.projectPath });
  if (!href) return <span className="hint">–</span>;
  return (
    <a href={href} download aria-label={`Download the weights of run ${props.runId}`}>
      ↓ safetensors
    </a>
  );
}
