/**
 * One image through the network: its top predictions, the feature maps of
 * every layer (the first channels of each, viridis scaled to the layer's
 * range; vectors as bar strips) and the first convolution's kernels.
 */
import type { InspectReport, KernelImages, LayerMaps } from '../../api/evaluation-api';
import { decodeBase64, Pixels, rgbaFromBytes, rgbaFromWeights } from './images';

export function TopPredictions({ report }: { report: InspectReport }) {
  return (
    <ol className="top-predictions" data-testid="top-predictions">
      {report.top.map((p) => (
        <li key={p.index} className={p.index === report.label ? 'correct' : undefined}>
          <span className="label">{p.label}</span>
          <span className="track">
            <span className="fill" style={{ width: `${p.probability * 100}%` }} />
          </span>
          <span className="value">{(p.probability * 100).toFixed(1)}%</span>
        </li>
      ))}
    </ol>
  );
}

function formatShape(shape: number[]): string {
  return shape.join('×');
}

function LayerRow({ layer }: { layer: LayerMaps }) {
  const maps = layer.maps;
  let content: React.ReactNode;
  if (maps) {
    const bytes = decodeBase64(maps.base64);
    const size = maps.height >= 24 ? 64 : 48;
    const channels = Array.from({ length: maps.channels }, (_, c) => `${layer.id}:${c}`);
    content = channels.map((key, c) => (
      <Pixels
        key={key}
        rgba={rgbaFromBytes(
          bytes,
          maps.width,
          maps.height,
          1,
          'viridis',
          c * maps.width * maps.height,
        )}
        width={maps.width}
        height={maps.height}
        size={size}
        title={`${layer.id}, channel ${c}`}
      />
    ));
  } else if (layer.values) {
    const values = layer.values;
    const span = layer.max - layer.min || 1;
    const bytes = Uint8Array.from(values, (v) => Math.round(((v - layer.min) / span) * 255));
    content = (
      <Pixels
        rgba={rgbaFromBytes(bytes, values.length, 1, 1, 'viridis')}
        width={values.length}
        height={1}
        size={Math.min(640, Math.max(160, values.length * 4))}
        stretchHeight={16}
        title={`${layer.id}: ${values.length} values`}
      />
    );
  }
  const hidden = maps ? layer.shape[1] - maps.channels : 0;
  return (
    <div className="layer-maps">
      <div className="layer-head">
        <span className="mono">{layer.id}</span>
        <span className="hint">
          {layer.type} · {formatShape(layer.shape)} · {layer.min.toFixed(2)} …{' '}
          {layer.max.toFixed(2)}
        </span>
      </div>
      <div className="maps">
        {content}
        {hidden > 0 ? <span className="hint more">+{hidden} more channels</span> : null}
      </div>
    </div>
  );
}

export function FeatureMaps({ report }: { report: InspectReport }) {
  return (
    <div className="feature-maps" data-testid="feature-maps">
      {report.layers.map((layer) => (
        <LayerRow key={layer.id} layer={layer} />
      ))}
    </div>
  );
}

export function Kernels({ kernels }: { kernels: KernelImages }) {
  const [out, inputs, kh, kw] = kernels.shape;
  // Few kernels (LeNet's 6) are drawn larger than many (ResNet's 64).
  const size = out * inputs <= 16 ? 72 : 48;
  const cells = [];
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inputs; i++) {
      cells.push(
        <Pixels
          key={`${o}-${i}`}
          rgba={rgbaFromWeights(kernels.values, (o * inputs + i) * kh * kw, kw, kh, kernels.absMax)}
          width={kw}
          height={kh}
          size={size}
          title={`${kernels.layerId}: output ${o}, input ${i}`}
        />,
      );
    }
  }
  return (
    <div className="kernels" data-testid="kernels">
      <p className="hint">
        {kernels.layerId}: {out} kernels of {inputs}×{kh}×{kw}; blue negative, white 0, red positive
        (±
        {kernels.absMax.toFixed(2)}).
      </p>
      <div
        className="kernel-grid"
        style={{ gridTemplateColumns: `repeat(${Math.min(16, out * inputs)}, ${size}px)` }}
      >
        {cells}
      </div>
    </div>
  );
}
