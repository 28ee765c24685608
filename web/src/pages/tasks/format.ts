// Small formatting helpers of the Tasks area.

export const FINAL_STATES = new Set(['Success', 'Failed', 'Canceled', 'TimedOut']);

export function isFinal(state: string | null | undefined): boolean {
  return state !== undefined && state !== null && FINAL_STATES.has(state);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

// A span in ms as "1h 2m", "3m 4s", "5.2s", "120ms".
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

// The time between two ISO instants; to now while `end` is missing.
export function spanBetween(start: string | null | undefined, end: string | null | undefined, now = Date.now()): string {
  if (!start) return '';
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  if (Number.isNaN(a) || Number.isNaN(b)) return '';
  return formatSpan(b - a);
}

export function stateClass(state: string): string {
  return `state state-${state.toLowerCase()}`;
}
