/** The project's runs, newest first; ticking a past one overlays its curves on the chart. */
import { toggleCompare, useTraining } from './store';

export function RunsList() {
  const runs = useTraining((s) => s.runs);
  const compared = useTraining((s) => s.compared);
  const liveId = useTraining((s) => s.live?.runId);
  return (
    <section className="runs-list" aria-label="Past runs">
      <h3>Runs of this project</h3>
      {runs.length === 0 ? (
        <p className="hint">
          Runs of this project are kept in runs/ next to its file; they appear here to compare.
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
                  {r.epochsDone} / {r.options.epochs}
                </td>
                <td>
                  {r.options.lr} · {r.options.batchSize}
                </td>
                <td>{r.last ? `${(r.last.valAcc * 100).toFixed(1)}%` : '–'}</td>
                <td>{r.backend ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
