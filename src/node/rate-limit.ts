/**
 * A gate for progress events: it opens at most `perSecond` times a second,
 * and always when forced (the first and last of a series), so a listener sees
 * steady progress and the final state without being flooded.
 */
export function rateLimit(perSecond: number): (force?: boolean) => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return (force = false) => {
    const now = performance.now();
    if (!force && now - last < 1000 / perSecond) return false;
    last = now;
    return true;
  };
}
