/**
 * Runs the desktop app and tells a window that opened and was later closed
 * from an app that could not start at all (a missing system library, a
 * sandbox the system refuses, a crash before the first paint): only the second
 * sends `npm start` to the web host. The main process prints WINDOW_READY_LINE
 * once its window is shown.
 */
import { spawn } from 'node:child_process';
import { WINDOW_READY_LINE } from '../../src/main/window';

export type LaunchOutcome = { kind: 'closed'; code: number } | { kind: 'failed'; why: string };

/** Lines of Electron's error output kept to explain a failed start. */
const KEPT_LINES = 8;

export function launchDesktop(binary: string, args: string[], cwd: string): Promise<LaunchOutcome> {
  const child = spawn(binary, args, { cwd, stdio: ['inherit', 'pipe', 'pipe'] });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, forward);
  let ready = false;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (!ready) {
      stdout = (stdout + chunk.toString()).slice(-4096);
      ready = stdout.includes(WINDOW_READY_LINE);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-16_384);
  });
  return new Promise((resolve) => {
    const finish = (outcome: LaunchOutcome) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, forward);
      resolve(outcome);
    };
    child.once('error', (err) =>
      finish({ kind: 'failed', why: `The desktop app could not be started: ${err.message}.` }),
    );
    child.once('close', (code, signal) => {
      if (ready || (code === 0 && !signal)) return finish({ kind: 'closed', code: code ?? 0 });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = stderr
        .split('\n')
        .filter((line) => line.trim())
        .slice(-KEPT_LINES)
        .map((line) => `  ${line}`);
      finish({
        kind: 'failed',
        why: [
          `The desktop app could not start: Electron ${how} before its window opened.`,
          ...tail,
        ].join('\n'),
      });
    });
  });
}
