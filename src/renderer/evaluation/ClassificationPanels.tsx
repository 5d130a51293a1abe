/**
 * What the classification of the test images shows: the confusion matrix as
 * a heatmap (rows: true class, columns: predicted; colour: share of the row),
 * per-class accuracy bars, and the misclassified images, most confident
 * mistakes first.
 */
import type { EvaluationReport } from '../../api/evaluation-api';
import { ImageView } from './images';

export function ConfusionMatrix({ report }: { report: EvaluationReport }) {
  const { classes, confusion } = report;
  return (
    <div className="confusion" data-testid="confusion-matrix">
      <div className="confusion-axis-label predicted">predicted</div>
      <div className="confusion-body">
        <div className="confusion-axis-label true">true</div>
        <table>
          <thead>
            <tr>
              <th />
              {classes.map((c) => (
                <th key={c} className="col-label">
                  <span>{c}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {confusion.map((row, t) => {
              const total = row.reduce((a, b) => a + b, 0) || 1;
              return (
                <tr key={classes[t]}>
                  <th className="row-label">{classes[t]}</th>
                  {row.map((count, p) => {
                    const share = count / total;
                    const diagonal = t === p;
                    return (
                      <td
                        key={classes[p]}
                        title={`true ${classes[t]}, predicted ${classes[p]}: ${count} (${(share * 100).toFixed(1)}% of ${classes[t]})`}
                        style={{
                          background: cellColour(share, diagonal),
                          color: share > 0.55 ? '#fff' : '#1f2933',
                        }}
                      >
                        {count || ''}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** Correct predictions in blue, confusions in orange, brighter for a larger share of the row. */
function cellColour(share: number, diagonal: boolean): string {
  if (share === 0) return 'var(--panel-2)';
  const strength = Math.sqrt(share);
  return diagonal ? `hsl(214 75% ${20 + strength * 38}%)` : `hsl(24 85% ${18 + strength * 40}%)`;
}

export function PerClassAccuracy({ report }: { report: EvaluationReport }) {
  const worst = Math.min(...report.perClass.map((c) => c.accuracy));
  return (
    <ul className="per-class" data-testid="per-class-accuracy">
      {report.perClass.map((c) => (
        <li key={c.label} className={c.accuracy === worst ? 'worst' : undefined}>
          <span className="label">{c.label}</span>
          <span className="track">
            <span className="fill" style={{ width: `${c.accuracy * 100}%` }} />
          </span>
          <span className="value">
            {(c.accuracy * 100).toFixed(1)}% <span className="hint">of {c.count}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}

export function MisclassifiedGallery({
  report,
  onInspect,
}: {
  report: EvaluationReport;
  onInspect(index: number): void;
}) {
  if (report.misclassified.length === 0) {
    return <p className="hint">No test image was misclassified.</p>;
  }
  return (
    <div className="gallery" data-testid="misclassified">
      {report.misclassified.map((m) => (
        <button
          type="button"
          key={m.index}
          className="gallery-item"
          title={`Test image ${m.index}: open its feature maps`}
          onClick={() => onInspect(m.index)}
        >
          <ImageView image={m.image} size={72} />
          <span className="truth">{report.classes[m.label]}</span>
          <span className="guess">
            → {report.classes[m.predicted]} {(m.confidence * 100).toFixed(0)}%
          </span>
        </button>
      ))}
    </div>
  );
}
