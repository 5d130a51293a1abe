/** What can be added to a graph: every catalog layer by category, then the project's own blocks. */
import type { Project } from '../../core/document/schema';
import { layerRegistry } from '../../core/layers/registry';
import { type Category, categoryLabels } from '../../core/layers/types';

export interface PaletteItem {
  key: string;
  label: string;
  description: string;
  type: string;
  params?: Record<string, unknown>;
}

export interface PaletteGroup {
  category: string;
  items: PaletteItem[];
}

export function paletteGroups(blocks: Project['blocks'], query = ''): PaletteGroup[] {
  const byCategory = new Map<string, PaletteItem[]>();
  const add = (category: string, item: PaletteItem) =>
    byCategory.set(category, [...(byCategory.get(category) ?? []), item]);
  for (const def of layerRegistry.values()) {
    if (def.kind === 'block' && def.userDefined) continue; // offered through the project's own blocks below
    add(categoryLabels[def.category as Category], {
      key: def.type,
      label: def.label,
      description: def.description,
      type: def.type,
    });
  }
  for (const [name, block] of Object.entries(blocks))
    add('My blocks', {
      key: `block:${name}`,
      label: block.label ?? name,
      description: block.description ?? `Your block '${name}' (${block.nodes.length - 1} layers)`,
      type: 'Block',
      params: { block: name },
    });
  const q = query.trim().toLowerCase();
  return [...byCategory.entries()]
    .map(([category, items]) => ({
      category,
      items: items.filter(
        (i) => !q || i.label.toLowerCase().includes(q) || i.description.toLowerCase().includes(q),
      ),
    }))
    .filter((g) => g.items.length > 0);
}

/**
 * The item a query most likely names, as an index into `items`: one called
 * exactly that, else one whose name starts with it, else one whose name holds
 * it, else the first (matched by its description only). Typing "Residual"
 * then takes Residual, not Add (whose description mentions residuals).
 */
export function bestMatch(items: PaletteItem[], query: string): number {
  const q = query.trim().toLowerCase();
  if (!q) return 0;
  const names = items.map((i) => [i.label.toLowerCase(), i.type.toLowerCase()]);
  const tests = [
    (n: string) => n === q,
    (n: string) => n.startsWith(q),
    (n: string) => n.includes(q),
  ];
  for (const test of tests) {
    const index = names.findIndex((pair) => pair.some(test));
    if (index >= 0) return index;
  }
  return 0;
}
