// Pieces the Infrastructure and Library pages share: health labels, "x ago" times, a ticking
// clock and an in-place delete confirmation.
import { useEffect, useRef, useState } from 'react';
import type { HealthStatus, MachineResource } from './types';

export const HEALTH_LABEL: Record<HealthStatus, string> = {
  Healthy: 'Healthy',
  HasWarnings: 'Has warnings',
  Unhealthy: 'Unhealthy',
  Unavailable: 'Unavailable',
  Unknown: 'Unknown',
};

export function healthLabel(status: string): string {
  return HEALTH_LABEL[status as HealthStatus] ?? status;
}

export function endpointKind(m: MachineResource): string {
  const style = m.Endpoint?.CommunicationStyle;
  if (style === 'TentacleActive') return 'Agent';
  if (style === 'None') return 'Cloud region';
  return style || 'Other';
}

// The current time, re-read every second, so "12 s ago" counts up between polls.
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

export function LastContact({ iso, now }: { iso?: string | null; now: number }) {
  if (!iso) return <span className="muted">Never (no agent)</span>;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {ago(iso, now)}
    </time>
  );
}

// "Delete X?" in place: the question, a destructive button and Cancel. Focus moves to Cancel so a
// stray Enter does not delete.
export function ConfirmDelete({
  question,
  confirmLabel = 'Yes, delete',
  busy,
  onConfirm,
  onCancel,
}: {
  question: string;
  confirmLabel?: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div className="confirm" role="group" aria-label="Confirm deletion">
      <span>{question}</span>
      <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
        {confirmLabel}
      </button>
      <button type="button" ref={cancel} disabled={busy} onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

export function splitRoles(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const r = part.trim();
    if (r && !out.includes(r)) out.push(r);
  }
  return out;
}
