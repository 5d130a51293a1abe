import { beforeEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../core/presets';
import { useStudio } from '../state/store';
import { type ActionHost, actions, findAction, getAction, insertPlace } from './actions';

const store = () => useStudio.getState();
const key = (k: string, mods: { ctrl?: boolean; shift?: boolean } = {}) => ({
  key: k,
  ctrlKey: mods.ctrl ?? false,
  metaKey: false,
  shiftKey: mods.shift ?? false,
});

/** A host that records what commands asked of the shell. */
function recordingHost(): ActionHost & { calls: string[] } {
  const calls: string[] = [];
  const note =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push([name, ...args.map((a) => JSON.stringify(a))].join(' '));
      return false;
    };
  return {
    calls,
    openDialog: note('openDialog'),
    closeOverlay: note('closeOverlay') as () => boolean,
    save: note('save'),
    newProject: note('newProject'),
    fitView: note('fitView'),
    zoom: note('zoom'),
    showBlockInside: note('showBlockInside'),
    pickLayer: note('pickLayer'),
    toggleMinimap: note('toggleMinimap'),
  };
}

describe('the command table', () => {
  beforeEach(() => store().load(getPreset('lenet')!.build(), null));

  it('gives every shortcut to one command only', () => {
    const keys = actions.flatMap((a) => a.keys ?? []);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('finds commands by key, with ⌘ as Ctrl, and leaves typing alone except Save, Save As and Open', () => {
    expect(findAction(key('z', { ctrl: true }), false)?.id).toBe('undo');
    expect(findAction({ ...key('z'), metaKey: true }, false)?.id).toBe('undo');
    expect(findAction(key('Z', { ctrl: true, shift: true }), false)?.id).toBe('redo');
    expect(findAction(key('g', { ctrl: true }), false)?.id).toBe('group');
    expect(findAction(key('?', { shift: true }), false)?.id).toBe('help');
    expect(findAction(key('z', { ctrl: true }), true)).toBeUndefined();
    expect(findAction(key('s', { ctrl: true }), true)?.id).toBe('save');
  });

  it('says why a command is not available, from the editor’s state', () => {
    expect(getAction('undo').unavailable?.(store())).toBe('nothing to undo');
    expect(getAction('group').unavailable?.(store())).toBe('select one or more layers first');
    expect(getAction('ungroup').unavailable?.(store())).toBe('select a block first');
    store().select(['conv1', 'sigmoid1']);
    expect(getAction('group').unavailable?.(store())).toBeNull();
  });

  it('inserts after the selected layer, on the selected connection, or on its own', () => {
    expect(insertPlace(store())).toBeNull();
    store().select(['conv1']);
    expect(insertPlace(store())).toEqual({ after: 'conv1' });
    store().select([], ['conv1->sigmoid1#1']);
    expect(insertPlace(store())).toEqual({ edge: 1 });
    const host = recordingHost();
    getAction('insertLayer').perform(host, store());
    expect(host.calls).toEqual(['pickLayer {"edge":1}']);
  });

  it('opens a block of one’s own for editing and a catalog block read-only; Escape goes back out', () => {
    store().select(['conv1', 'sigmoid1']);
    store().groupSelection('pair');
    const host = recordingHost();
    getAction('openBlock').perform(host, store());
    expect(store().scope.map((s) => s.block)).toEqual(['pair']);
    getAction('escape').perform(host, store());
    expect(store().scope).toEqual([]);
    store().load(getPreset('resnet18')!.build(), null);
    store().enterBlock('b2');
    store().select(['0']);
    getAction('openBlock').perform(host, store());
    expect(host.calls.at(-1)).toBe('showBlockInside "b2/0"');
  });
});
