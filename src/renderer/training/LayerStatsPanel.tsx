/**
 * Per-layer statistics while training, input at the top: the spread of each
 * layer's activations, the size of the gradients reaching it (log scale, so a
 * vanishing gradient shows as a short bar), and the share of dead ReLUs or
 * saturated sigmoids. The summary line says in words what the bars show.
 */
import type { LayerStat } from '../../api/training-protocol';
import { GradientHistoryChart } from './GradientHistoryChart';
import { useTraining } from './store';

export function gradientSummary(layers: LayerStat[]): string | undefined {
  const withGradients = layers.filter((l) => (l.gradientStd ?? 0) > 0);
  if (withGradients.length < 2) return undefined;
  const first = withGradients[0];
  const last = withGradients[withGradients.length - 1];
  const ratio = last.gradientStd! / first.gradientStd!;
  const saturated = layers.filter((l) => (l.saturatedFraction ?? 0) > 0.2);
  const parts: string[] = [];
  if (ratio > 3) {
    parts.push(
      `Gradients reaching ${first.id} are ${formatRatio(ratio)}× smaller than at ${last.id}: the early layers learn slowly.`,
    );
  } else if (ratio < 1 / 3) {
    parts.push(`Gradients grow ${formatRatio(1 / ratio)}× from ${last.id} back to ${first.id}.`);
  } else {
    parts.push(`Gradients keep a similar size through the network (${first.id} to ${last.id}).`);
  }
  for (const l of saturated) {
    parts.push(
      `${Math.round(l.saturatedFraction! * 100)}% of ${l.id}'s outputs are saturated, where the sigmoid's slope is nearly 0.`,
    );
  }
  const dead = layers.filter((l) => (l.deadFraction ?? 0) > 0.5);
  for (const l of dead)
    parts.push(`${Math.round(l.deadFraction! * 100)}% of ${l.id}'s ReLUs output 0.`);
  return parts.join(' ');
}

function formatRatio(r: number): string {
  return r >= 100 ? Math.round(r).toLocaleString() : r.toFixed(1);
}

function exponent(v: number): string {
  return v === 0 ? '0' : v.toExponential(1);
}

export function LayerStatsPanel() {
  const stats = useTraining((s) => s.live?.layerStats);
  if (!stats) {
    return (
      <section className="layer-stats empty" aria-label="Layer statistics">
        <h3>Inside the layers</h3>
        <p className="hint">
          Activation and gradient statistics per layer appear here a few batches into a run.
        </p>
      </section>
    );
  }
  const { layers } = stats;
  const low = Math.min(...layers.map((l) => l.activationMean - l.activationStd));
  const high = Math.max(...layers.map((l) => l.activationMean + l.activationStd));
  const span = high - low || 1;
  const gradients = layers.map((l) => l.gradientStd ?? 0).filter((g) => g > 0);
  const logMin = Math.floor(Math.log10(Math.min(...gradients, 1)));
  const logMax = Math.ceil(Math.log10(Math.max(...gradients, 1e-12)));
  const logSpan = Math.max(1, logMax - logMin);
  const summary = gradientSummary(layers);
  const position = (v: number) => `${((v - low) / span) * 100}%`;

  return (
    <section className="layer-stats" aria-label="Layer statistics">
      <h3>
        Inside the layers{' '}
        <span className="hint">
          epoch {stats.epoch}, batch {stats.batch}
        </span>
      </h3>
      {summary ? (
        <p className="stats-summary" data-testid="stats-summary">
          {summary}
        </p>
      ) : null}
      <h4>
        Gradient spread of the layers with weights, over the run{' '}
        <span className="hint">(log scale; dark blue: first layer, yellow: last)</span>
      </h4>
      <GradientHistoryChart />
      <table>
        <thead>
          <tr>
            <th>Layer</th>
            <th title="Mean ± standard deviation of the layer's outputs">
              Activations (mean ± std)
            </th>
            <th title="Standard deviation of the loss gradient at the layer's output, log scale">
              Gradient spread (log)
            </th>
            <th title="Share of ReLU outputs that are exactly 0, or of sigmoid/tanh outputs at their limits">
              Dead / saturated
            </th>
          </tr>
        </thead>
        <tbody>
          {layers.map((l) => {
            const gradient = l.gradientStd ?? 0;
            const gradientWidth =
              gradient > 0 ? ((Math.log10(gradient) - logMin) / logSpan) * 100 : 0;
            const share = l.deadFraction ?? l.saturatedFraction;
            return (
              <tr key={l.id}>
                <td>
                  <span className="mono">{l.id}</span> <span className="hint">{l.type}</span>
                </td>
                <td className="bar-cell">
                  <div className="track">
                    <div
                      className="range"
                      style={{
                        left: position(l.activationMean - l.activationStd),
                        width: `${((2 * l.activationStd) / span) * 100}%`,
                      }}
                    />
                    <div className="mean" style={{ left: position(l.activationMean) }} />
                  </div>
                  <span className="value">
                    {l.activationMean.toFixed(3)} ± {l.activationStd.toFixed(3)}
                  </span>
                </td>
                <td className="bar-cell">
                  <div className="track">
                    <div className="bar gradient" style={{ width: `${gradientWidth}%` }} />
                  </div>
                  <span className="value">
                    {l.gradientStd === undefined ? '–' : exponent(gradient)}
                  </span>
                </td>
                <td className="bar-cell">
                  {share === undefined ? (
                    <span className="hint">–</span>
                  ) : (
                    <>
                      <div className="track">
                        <div
                          className={`bar ${l.deadFraction !== undefined ? 'dead' : 'saturated'}`}
                          style={{ width: `${share * 100}%` }}
                        />
                      </div>
                      <span className="value">
                        {(share * 100).toFixed(1)}%{' '}
                        {l.deadFraction !== undefined ? 'dead' : 'saturated'}
                      </span>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="hint axis-note">
        Activation bars share one axis ({low.toFixed(2)} to {high.toFixed(2)}); gradient bars span
        1e{logMin} to 1e{logMax}.
      </p>
    </section>
  );
}
