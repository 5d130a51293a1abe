/** The layer summary under the canvas: every layer's output, parameters, MACs, receptive field and memory, with totals. */
import { Fragment, useState } from 'react';
import type { NodeInfo } from '../../core/infer';
import { formatBytes } from '../../core/summary';
import { useStudio } from '../state/store';
import { countText, scaled, shapeText } from './format';

export function SummaryPanel() {
  const inference = useStudio((s) => s.inference);
  const selection = useStudio((s) => s.selection);
  const [open, setOpen] = useState(new Set<string>());
  const toggle = (id: string) =>
    setOpen((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const row = (node: NodeInfo, depth: number): React.ReactNode => {
    const expandable = node.children !== undefined && node.children.length > 0;
    const name = node.id.slice(node.id.lastIndexOf('/') + 1);
    return (
      <Fragment key={node.id}>
        <tr
          className={`${depth === 0 && selection.includes(node.id) ? 'selected' : ''}${node.error ? ' error' : ''}`}
          onClick={() => depth === 0 && useStudio.getState().select([node.id])}
          data-testid={depth === 0 ? `summary-${node.id}` : undefined}
        >
          <td style={{ paddingLeft: 8 + depth * 16 }}>
            {expandable ? (
              <button
                type="button"
                className="disclosure"
                aria-expanded={open.has(node.id)}
                onClick={(e) => {
                  e.stopPropagation();
                  toggle(node.id);
                }}
              >
                {open.has(node.id) ? '▾' : '▸'}
              </button>
            ) : (
              <span className="disclosure-space" />
            )}
            {node.label ?? name}
          </td>
          <td>{node.type}</td>
          <td className="num shape">
            {node.error ? (
              <span className="error-text">{node.error}</span>
            ) : (
              shapeText(node.outputShape)
            )}
          </td>
          <td className="num">{countText(node.paramCount)}</td>
          <td className="num">{scaled(node.macs)}</td>
          <td className="num">{node.receptiveField ? node.receptiveField.join('×') : ''}</td>
          <td className="num">{formatBytes(node.memoryBytes)}</td>
        </tr>
        {expandable &&
          open.has(node.id) &&
          node.children!.filter((c) => c.type !== 'Input').map((c) => row(c, depth + 1))}
      </Fragment>
    );
  };
  return (
    <section className="summary" aria-label="Layer summary">
      <table>
        <thead>
          <tr>
            <th>Layer</th>
            <th>Type</th>
            <th className="num">Output (N×C×H×W)</th>
            <th className="num">Params</th>
            <th className="num">MACs</th>
            <th className="num">Receptive field</th>
            <th className="num">Memory</th>
          </tr>
        </thead>
        <tbody>{inference.nodes.map((n) => row(n, 0))}</tbody>
        <tfoot>
          <tr data-testid="summary-totals">
            <td colSpan={2}>
              Total
              {inference.issues.length > 0
                ? ` (${inference.issues.length} problem${inference.issues.length === 1 ? '' : 's'})`
                : ''}
            </td>
            <td className="num shape">{shapeText(inference.outputShape)}</td>
            <td className="num" data-testid="total-params">
              {countText(inference.totals.params)}
            </td>
            <td className="num">{scaled(inference.totals.macs)}</td>
            <td />
            <td className="num">{formatBytes(inference.totals.memoryBytes)}</td>
          </tr>
        </tfoot>
      </table>
    </section>
  );
}
