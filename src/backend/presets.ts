/** The course's presets as the project service offers them (core/presets builds the documents). */
import { getPreset, presetNames, presets } from '../core/presets';
import type { PresetSource } from './project-service';

export const builtInPresets: PresetSource = {
  list: () => presets.map(({ name, title, description }) => ({ name, title, description })),
  text(name) {
    const preset = getPreset(name);
    if (!preset)
      throw new Error(`no preset named '${name}'; the presets are ${presetNames().join(', ')}`);
    return `${JSON.stringify(preset.build(), null, 2)}\n`;
  },
};
