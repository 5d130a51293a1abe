/** The studio's progress bar (training, downloads, evaluation): an accessible bar for a fraction done. */
export function ProgressBar({ fraction, label }: { fraction: number; label?: string }) {
  const clamped = Math.min(1, Math.max(0, fraction));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped * 100)}
    >
      <div className="progress-fill" style={{ width: `${clamped * 100}%` }} />
    </div>
  );
}
