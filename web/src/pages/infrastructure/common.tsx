// Pieces the Infrastructure and Library pages share: health labels, "x ago" times, a ticking
// clock and an in-place delete confirmation.
import { useEffect, useRef } from 'react';
import { ago } from '../../components/time';
import type { HealthStatus, MachineResource } from './types';

export { ago, useNow } from '../../components/time';

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
