/** The right-hand panel: the selected layer's parameters, explanation and numbers; or the selection's actions; or the project. */
import { useId } from 'react';
import type { GraphIssue } from '../../core/issues';
import type { Field } from '../../core/layers/fields';
import { getLayerDef } from '../../core/layers/registry';
import { formatBytes } from '../../core/summary';
import { ActionButton } from '../app/ActionsProvider';
import { currentGraph, pathOf, useStudio } from '../state/store';
import { FieldEditor } from './FieldEditor';
import { countText, scaled, shapeText } from './format';

export function Inspector() {
  const selection = useStudio((s) => s.selection);
  const inBlock = useStudio((s) => s.scope.length > 0);
  return (
    <aside className="inspector" aria-label="Inspector">
      {selection.length === 1 ? (
        <NodeInspector key={selection[0]} nodeId={selection[0]} />
      ) : selection.length > 1 ? (
        <SelectionInspector count={selection.length} />
      ) : inBlock ? (
        <BlockInspector />
      ) : (
        <ProjectInspector />
      )}
    </aside>
  );
}

function NodeInspector({ nodeId }: { nodeId: string }) {
  const node = useStudio((s) => currentGraph(s).nodes.find((n) => n.id === nodeId));
  const path = useStudio((s) => pathOf(s, nodeId));
  const info = useStudio((s) => s.inference.byId.get(path));
  const issues = useStudio((s) => s.inference.issues);
  const blocks = useStudio((s) => s.project.blocks);
  const focus = useStudio((s) => (s.focus?.path === path ? s.focus.field : null));
  if (!node) return null;
  const blockNames = Object.keys(blocks);
  const def = getLayerDef(node.type);
  const store = useStudio.getState();
  const fieldProblem = (name: string) =>
    issues.find((i) => i.nodeId === path && i.field === name)?.message;
  return (
    <div className="inspector-body" data-testid="inspector">
      <header>
        <h2>{node.type}</h2>
        <p className="muted">{def?.description ?? 'Unknown layer type'}</p>
      </header>
      {info?.error && !issues.some((i) => i.nodeId === path && i.field && def?.fields[i.field]) && (
        <div className={info.unconnected ? 'inspector-note' : 'inspector-error'} role="alert">
          {info.unconnected
            ? 'Not connected yet: drag from the output port of the layer before it to this one’s input port.'
            : info.error}
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
      <TextField
        name="name"
        value={node.label ?? ''}
        placeholder={node.id}
        help={`Shown on the card; the id “${node.id}” names it in summaries and exports.`}
        onChange={(value) => store.setLabel(nodeId, value)}
      />
      {def &&
        (Object.entries(def.fields) as [string, Field][]).map(([name, field]) => (
          <FieldEditor
            key={name}
            name={name}
            field={
              field.kind === 'text' && field.refersTo === 'block'
                ? blockChoice(field, blockNames)
                : field
            }
            value={node.params[name] ?? field.default}
            problem={fieldProblem(name)}
            highlight={focus === name}
            onChange={(value) => store.setParam(nodeId, name, value)}
          />
        ))}
      {def?.kind === 'block' && (
        <div className="inspector-buttons">
          <ActionButton id="openBlock">Open block ▸</ActionButton>
          <ActionButton id="ungroup" />
        </div>
      )}
    </div>
  );
}

function SelectionInspector({ count }: { count: number }) {
  return (
    <div className="inspector-body">
      <header>
        <h2>{count} layers selected</h2>
        <p className="muted">
          Group them into a block of your own to reuse it; it appears under “My blocks”.
        </p>
      </header>
      <div className="inspector-buttons">
        <ActionButton id="group" />
        <ActionButton id="delete" className="button danger">
          Delete {count} layers
        </ActionButton>
      </div>
    </div>
  );
}

/** Nothing selected inside a block: the block itself (its name, what it holds, its problems). */
function BlockInspector() {
  const step = useStudio((s) => s.scope.at(-1)!);
  const block = useStudio((s) => s.project.blocks[step.block]);
  const info = useStudio((s) => s.inference.byId.get(step.path));
  const allIssues = useStudio((s) => s.inference.issues);
  const issues = allIssues.filter((i) => i.nodeId?.startsWith(`${step.path}/`));
  const store = useStudio.getState();
  const setMeta = (key: 'label' | 'description', value: string) =>
    store.edit(
      (p) => ({
        ...p,
        blocks: {
          ...p.blocks,
          [step.block]: { ...p.blocks[step.block], [key]: value || undefined },
        },
      }),
      `block-${key}:${step.block}`,
    );
  return (
    <div className="inspector-body">
      <header>
        <h2>Block {step.block}</h2>
        <p className="muted">
          You are editing the block’s one definition: every use of it changes. Shapes are those of
          the use you opened ({step.path}).
        </p>
      </header>
      <TextField
        name="label"
        value={block?.label ?? ''}
        placeholder={step.block}
        onChange={(value) => setMeta('label', value)}
      />
      <TextField
        name="description"
        value={block?.description ?? ''}
        placeholder="shown in the palette"
        onChange={(value) => setMeta('description', value)}
      />
      {info && (
        <dl className="stats">
          <dt>Layers</dt>
          <dd>{(block?.nodes.length ?? 1) - 1}</dd>
          <dt>Input</dt>
          <dd>{info.inputShapes.length > 0 ? info.inputShapes.map(shapeText).join(', ') : '—'}</dd>
          <dt>Output</dt>
          <dd>{shapeText(info.outputShape)}</dd>
          <dt>Parameters</dt>
          <dd>{countText(info.paramCount)}</dd>
        </dl>
      )}
      <IssueList issues={issues} />
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
          Select a layer to edit it. Drag layers from the palette; connect the output port of one to
          the input port of the next. Right-click a layer, a connection or the canvas for more.
        </p>
      </header>
      <TextField
        name="name"
        value={project.name}
        onChange={(value) => store.edit((p) => ({ ...p, name: value }), 'project-name')}
      />
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
      <IssueList issues={inference.issues} />
    </div>
  );
}

/** A free-text field of a layer, block or project (its name, label, description). */
function TextField(props: {
  name: string;
  value: string;
  placeholder?: string;
  help?: string;
  onChange(value: string): void;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.name}</label>
      <input
        id={id}
        type="text"
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.help && <p className="field-help">{props.help}</p>}
    </div>
  );
}

/** Problems, each with a link that opens the way to its layer and selects it (and the field that fixes it). */
function IssueList({ issues }: { issues: GraphIssue[] }) {
  if (issues.length === 0) return null;
  return (
    <section className="issues">
      <h3>Problems ({issues.length})</h3>
      <ul>
        {issues.map((issue) => (
          <li key={`${issue.nodeId}:${issue.field}:${issue.message}`}>
            {issue.nodeId && (
              <button
                type="button"
                className="link"
                onClick={() => useStudio.getState().reveal(issue.nodeId!, issue.field)}
              >
                {issue.nodeId}
              </button>
            )}{' '}
            {issue.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A user Block's 'block' field offered as a choice among the project's blocks. */
function blockChoice(field: Field, names: string[]): Field {
  return names.length > 0 ? ({ ...field, kind: 'enum', options: names } as Field) : field;
}
