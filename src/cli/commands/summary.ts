/** `convnet-studio summary <preset|file.json> [--input N,C,H,W] [--json] [--expand]`. */
import type { Command } from 'commander';
import { ProjectError } from '../../core/issues';
import { formatSummaryText, summarize } from '../../core/summary';
import { ProjectSourceError } from '../errors';
import { loadProjectSource, parseInputShape } from '../project-source';

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description(
      'Print every layer’s output shape, parameters, MACs, receptive field and memory, as the course’s layer_summary',
    )
    .argument('<preset|file.json>', 'a preset name (see `presets`) or a project file')
    .option('--input <N,C,H,W>', 'input shape to use instead of the project’s (e.g. 1,1,28,28)')
    .option('--expand', 'also list the layers inside blocks')
    .option(
      '--json',
      'print {"layers":[{"name","type","outputShape","params",…}],"totalParams","macs",…}',
    )
    .action((arg: string, opts: { input?: string; json?: boolean; expand?: boolean }) => {
      const inputShape = opts.input ? parseInputShape(opts.input) : undefined;
      const { project, source } = loadProjectSource(arg);
      let summary: ReturnType<typeof summarize>;
      try {
        summary = summarize(project, { inputShape });
      } catch (err) {
        if (err instanceof ProjectError) throw new ProjectSourceError(source, err.issues);
        throw err;
      }
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(summary)}\n`
          : `${formatSummaryText(summary, { expand: opts.expand })}\n`,
      );
    });
}
