// Relative times the live pages show ("12 s ago"), re-rendered by a clock that ticks each second.
import { useEffect, useState } from 'react';

// Date.now(), refreshed every `intervalMs` while the component is mounted.
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'Never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'Never';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 2) return 'just now';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleString();
}
