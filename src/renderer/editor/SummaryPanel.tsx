/**
 * The layer summary under the canvas: every layer's output, parameters, MACs,
 * receptive field and memory, with totals. Drag its top edge to resize it;
 * collapse it to its totals. Clicking a row selects that layer and brings it
 * into view (opening the blocks of one's own on the way).
 */
import { Fragment, type PointerEvent, useState } from 'react';
import type { NodeInfo } from '../../core/infer';
import { formatBytes } from '../../core/summary';
import { pathOf, useStudio } from '../state/store';
import { countText, scaled, shapeText } from './format';

const MIN_HEIGHT = 90;
const HEIGHT_KEY = 'convnet-studio.summary-height';
const COLLAPSED_KEY = 'convnet-studio.summary-collapsed';

function stored(key: string, fallback: string): string {
  try {
    return localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

function keep(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private windows may refuse storage: the panel still works, it just forgets.
  }
}

export function SummaryPanel() {
  const inference = useStudio((s) => s.inference);
  const selection = useStudio((s) => s.selection);
  const scope = useStudio((s) => s.scope);
  const selected = new Set(selection.map((id) => pathOf({ scope }, id)));
  const [open, setOpen] = useState(new Set<string>());
  const [height, setHeight] = useState(() => Number(stored(HEIGHT_KEY, '210')) || 210);
  const [collapsed, setCollapsed] = useState(() => stored(COLLAPSED_KEY, 'no') === 'yes');
  const toggle = (id: string) =>
    setOpen((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const startResize = (event: PointerEvent<HTMLDivElement>) => {
    const handle = event.currentTarget;
    handle.setPointerCapture(event.pointerId);
    const startY = event.clientY;
    const startHeight = height;
    const max = window.innerHeight * 0.7;
    let last = startHeight;
    const move = (e: globalThis.PointerEvent) => {
      last = Math.round(Math.min(max, Math.max(MIN_HEIGHT, startHeight + startY - e.clientY)));
      setHeight(last);
    };
    const up = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
      keep(HEIGHT_KEY, String(last));
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  };

  const setCollapsedKept = (value: boolean) => {
    setCollapsed(value);
    keep(COLLAPSED_KEY, value ? 'yes' : 'no');
  };

  const row = (node: NodeInfo, depth: number): React.ReactNode => {
    const expandable = node.children !== undefined && node.children.length > 0;
    const name = node.id.slice(node.id.lastIndexOf('/') + 1);
    return (
      <Fragment key={node.id}>
        <tr
          className={`${selected.has(node.id) ? 'selected' : ''}${node.error && !node.unconnected ? ' error' : ''}`}
          onClick={() => useStudio.getState().reveal(node.id)}
          data-testid={`summary-${node.id}`}
        >
          <td style={{ paddingLeft: 8 + depth * 16 }}>
            {expandable ? (
              <button
                type="button"
                className="disclosure"
                aria-expanded={open.has(node.id)}
                aria-label={open.has(node.id) ? 'Hide the inside' : 'Show the inside'}
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
            {node.unconnected ? (
              <span className="muted">not connected</span>
            ) : node.error ? (
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
  const problems = inference.issues.length;
  const totals = (
    <>
      <td className="num shape">{shapeText(inference.outputShape)}</td>
      <td className="num" data-testid="total-params">
        {countText(inference.totals.params)}
      </td>
      <td className="num">{scaled(inference.totals.macs)}</td>
      <td />
      <td className="num">{formatBytes(inference.totals.memoryBytes)}</td>
    </>
  );
  return (
    <section
      className={`summary${collapsed ? ' collapsed' : ''}`}
      aria-label="Layer summary"
      style={collapsed ? undefined : { height }}
    >
      {!collapsed && (
        <div
          className="summary-resize"
          onPointerDown={startResize}
          title="Drag to resize the summary"
          data-testid="summary-resize"
        />
      )}
      <table>
        <thead>
          <tr>
            <th>
              <button
                type="button"
                className="disclosure"
                aria-expanded={!collapsed}
                aria-label={collapsed ? 'Show the layer summary' : 'Collapse the layer summary'}
                title={collapsed ? 'Show the layer summary' : 'Collapse to the totals'}
                onClick={() => setCollapsedKept(!collapsed)}
                data-testid="summary-toggle"
              >
                {collapsed ? '▸' : '▾'}
              </button>
              Layer
            </th>
            <th>Type</th>
            <th className="num">Output (N×C×H×W)</th>
            <th className="num">Params</th>
            <th className="num">MACs</th>
            <th className="num">Receptive field</th>
            <th className="num">Memory</th>
          </tr>
        </thead>
        {!collapsed && <tbody>{inference.nodes.map((n) => row(n, 0))}</tbody>}
        <tfoot>
          <tr data-testid="summary-totals">
            <td colSpan={2}>
              Total
              {problems > 0 ? ` (${problems} problem${problems === 1 ? '' : 's'})` : ''}
            </td>
            {totals}
          </tr>
        </tfoot>
      </table>
    </section>
  );
}
