/** The host's recent project files as links (the Open dialog and the start page). */
import { useEffect, useState } from 'react';
import { useApi } from '../api/context';

export function RecentFiles({ onOpen, limit }: { onOpen(path: string): void; limit?: number }) {
  const api = useApi();
  const [recent, setRecent] = useState<string[]>([]);
  useEffect(() => {
    void api.recentFiles().then((r) => r.ok && setRecent(r.value));
  }, [api]);
  if (recent.length === 0) return null;
  return (
    <section>
      <h3>Recent files</h3>
      <ul className="file-list">
        {recent.slice(0, limit).map((path) => (
          <li key={path}>
            <button
              type="button"
              className="link"
              data-testid={`recent-${path}`}
              onClick={() => onOpen(path)}
            >
              {path}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
