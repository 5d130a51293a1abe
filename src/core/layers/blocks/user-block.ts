/** A block of the user's own, defined once in the project's `blocks` and used by name. */
import { ShapeError } from '../../shape';
import { blockName } from '../fields';
import { defineBlock } from '../types';

export const UserBlock = defineBlock({
  type: 'Block',
  label: 'Block',
  userDefined: true,
  nameOf: (p) => p.block || 'Block',
  category: 'blocks',
  description: 'One of this project’s own blocks, used by name; edit it once, every use changes.',
  inputs: { min: 1, max: 1 },
  fields: {
    block: blockName({ help: 'Name of the block in this project’s blocks.' }),
  },
  expand(p, ctx) {
    if (Object.hasOwn(ctx.blocks, p.block)) return ctx.blocks[p.block];
    const known = Object.keys(ctx.blocks);
    throw new ShapeError(
      p.block === ''
        ? `no block chosen; set 'block' to one of this project's blocks (${known.length > 0 ? known.join(', ') : 'it has none yet'})`
        : `the project has no block named '${p.block}'; ${known.length > 0 ? `its blocks are ${known.join(', ')}` : 'it has no blocks: define one under "blocks" first'}`,
      'block',
    );
  },
});
