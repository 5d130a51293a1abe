/** The right-hand panel: the selected layer's parameters, explanation and numbers; or the selection's actions; or the project. */
import { useState } from 'react';
import type { Field } from '../../core/layers/fields';
import { getLayerDef } from '../../core/layers/registry';
import { formatBytes } from '../../core/summary';
import { useStudio } from '../state/store';
import { FieldEditor } from './FieldEditor';
import { countText, scaled, shapeText } from './format';

export function Inspector({ onOpenBlock }: { onOpenBlock(nodeId: string): void }) {
  const selection = useStudio((s) => s.selection);
  return (
    <aside className="inspector" aria-label="Inspector">
      {selection.length === 1 ? (
        <NodeInspector key={selection[0]} nodeId={selection[0]} onOpenBlock={onOpenBlock} />
      ) : selection.length > 1 ? (
        <SelectionInspector count={selection.length} />
      ) : (
        <ProjectInspector />
      )}
    </aside>
  );
}

function NodeInspector({
  nodeId,
  onOpenBlock,
}: {
  nodeId: string;
  onOpenBlock(nodeId: string): void;
}) {
  const node = useStudio((s) => s.project.nodes.find((n) => n.id === nodeId));
  const info = useStudio((s) => s.inference.byId.get(nodeId));
  const issues = useStudio((s) => s.inference.issues);
  const blocks = useStudio((s) => s.project.blocks);
  if (!node) return null;
  const blockNames = Object.keys(blocks);
  const def = getLayerDef(node.type);
  const store = useStudio.getState();
  const fieldProblem = (name: string) =>
    issues.find((i) => i.nodeId === nodeId && i.field === name)?.message;
  return (
    <div className="inspector-body" data-testid="inspector">
      <header>
        <h2>{node.type}</h2>
        <p className="muted">{def?.description ?? 'Unknown layer type'}</p>
      </header>
      {info?.error &&
        !issues.some((i) => i.nodeId === nodeId && i.field && def?.fields[i.field]) && (
          <div className="inspector-error" role="alert">
            {info.error}
          </div>
        )}
      {info?.explain && info.explain.length > 0 && (
        <section className="explain">
          <h3>How the size comes out</h3>
          {info.explain.map((line) => (
            <code key={line}>{line}</code>
          ))}
        </section>
      )}
      {info && !info.error && (
        <dl className="stats">
          <dt>Input</dt>
          <dd>{info.inputShapes.length > 0 ? info.inputShapes.map(shapeText).join(', ') : '—'}</dd>
          <dt>Output</dt>
          <dd data-testid="inspector-output">{shapeText(info.outputShape)}</dd>
          <dt>Parameters</dt>
          <dd>{countText(info.paramCount)}</dd>
          <dt>MACs</dt>
          <dd>{scaled(info.macs)}</dd>
          <dt>Receptive field</dt>
          <dd>{info.receptiveField ? info.receptiveField.join('×') : '—'}</dd>
          <dt>Activations</dt>
          <dd>{formatBytes(info.memoryBytes)}</dd>
        </dl>
      )}
      <div className="field">
        <label htmlFor="node-label">name</label>
        <input
          id="node-label"
          type="text"
          value={node.label ?? ''}
          placeholder={node.id}
          onChange={(e) => store.setLabel(nodeId, e.target.value)}
        />
        <p className="field-help">
          Shown on the card; the id “{node.id}” names it in summaries and exports.
        </p>
      </div>
      {def &&
        (Object.entries(def.fields) as [string, Field][]).map(([name, field]) => (
          <FieldEditor
            key={name}
            name={name}
            field={
              node.type === 'Block' && name === 'block' ? blockChoice(field, blockNames) : field
            }
            value={node.params[name] ?? field.default}
            problem={fieldProblem(name)}
            onChange={(value) => store.setParam(nodeId, name, value)}
          />
        ))}
      {def?.expand && !info?.error && (
        <button type="button" className="button" onClick={() => onOpenBlock(nodeId)}>
          Open block ▸
        </button>
      )}
    </div>
  );
}

function SelectionInspector({ count }: { count: number }) {
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const store = useStudio.getState();
  return (
    <div className="inspector-body">
      <header>
        <h2>{count} layers selected</h2>
        <p className="muted">
          Group them into a block of your own to reuse it; it appears under “My blocks”.
        </p>
      </header>
      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          setProblem(store.groupSelection(name.trim()));
        }}
      >
        <label htmlFor="block-name">block name</label>
        <input
          id="block-name"
          type="text"
          value={name}
          placeholder="e.g. conv_bn_relu"
          onChange={(e) => setName(e.target.value)}
        />
        {problem && (
          <p className="field-error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" className="button" disabled={!name.trim()}>
          Group into block
        </button>
      </form>
      <button type="button" className="button danger" onClick={() => store.deleteSelection()}>
        Delete {count} layers
      </button>
    </div>
  );
}

function ProjectInspector() {
  const project = useStudio((s) => s.project);
  const inference = useStudio((s) => s.inference);
  const store = useStudio.getState();
  return (
    <div className="inspector-body">
      <header>
        <h2>Project</h2>
        <p className="muted">
          Select a layer to edit it. Drag layers from the palette; connect the bottom port of one to
          the top port of the next.
        </p>
      </header>
      <div className="field">
        <label htmlFor="project-name">name</label>
        <input
          id="project-name"
          type="text"
          value={project.name}
          onChange={(e) => store.edit((p) => ({ ...p, name: e.target.value }), 'project-name')}
        />
      </div>
      {project.description && <p className="muted">{project.description}</p>}
      <dl className="stats">
        <dt>Layers</dt>
        <dd>{project.nodes.length}</dd>
        <dt>Output</dt>
        <dd>{shapeText(inference.outputShape)}</dd>
        <dt>Parameters</dt>
        <dd>{countText(inference.totals.params)}</dd>
        <dt>MACs</dt>
        <dd>{scaled(inference.totals.macs)}</dd>
      </dl>
      {inference.issues.length > 0 && (
        <section className="issues">
          <h3>Problems ({inference.issues.length})</h3>
          <ul>
            {inference.issues.map((issue) => (
              <li key={`${issue.nodeId}:${issue.field}:${issue.message}`}>
                {issue.nodeId && (
                  <button
                    type="button"
                    className="link"
                    onClick={() => store.select([issue.nodeId!.split('/')[0]])}
                  >
                    {issue.nodeId}
                  </button>
                )}{' '}
                {issue.message}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

/** A user Block's 'block' field offered as a choice among the project's blocks. */
function blockChoice(field: Field, names: string[]): Field {
  return names.length > 0 ? ({ ...field, kind: 'enum', options: names } as Field) : field;
}
