/**
 * The flags the measuring scripts share: --threads=T (CPU threads for wasm)
 * and --cpu (time by this process's CPU time rather than the clock: on a
 * busy machine that leaves out the time other programs held the core; with
 * one thread, or it adds up every thread's time).
 */
const threadsFlag = process.argv.find((a) => a.startsWith('--threads='));

/** The positional arguments (those not starting with --). */
export const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));

/** --threads=T, if given. */
export const threads = threadsFlag ? Number(threadsFlag.slice('--threads='.length)) : undefined;

export const cpuClock = process.argv.includes('--cpu');

/** Milliseconds, by the clock or (--cpu) by this process's CPU time. */
export const now = cpuClock
  ? () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    }
  : () => performance.now();
