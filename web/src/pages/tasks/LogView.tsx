// The task log, virtualised: a fixed-row-height scroller that renders only the rows in view plus a
// margin, so a 100,000-line log stays responsive. It follows the tail while the reader is at the
// bottom and stops following once they scroll up (scrolling back down resumes it).
//
// Test hooks on the scroller: data-line-count (lines read), data-shown-line-count (lines the
// view holds with the verbose filter), data-log-offset (bytes read), data-log-complete ("true" once
// a finished task's whole log is read), data-reconnecting ("true" while reads fail and are
// retried). Each row carries data-line-number (1-based, in the log).
import { useCallback, useLayoutEffect, useRef, useState } from 'react';
import { windowOf } from '../../components/useWindow';
import { KIND_ERROR, KIND_VERBOSE, KIND_WARNING, parseLine } from './rawLog';
import type { LogFollow } from './useLogFollower';

export const ROW_HEIGHT = 20;
const MARGIN_ROWS = 12;
// "2026-12-03T09:25:11.229+00:00": the view shows the time of day, the title the whole instant.
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;

const KIND_CLASS: Record<number, string> = {
  [KIND_VERBOSE]: 'log-row log-verbose',
  [KIND_WARNING]: 'log-row log-warning',
  [KIND_ERROR]: 'log-row log-error',
};

export function LogView({ follow, showVerbose }: { follow: LogFollow; showVerbose: boolean }) {
  const { store } = follow;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [view, setView] = useState({ top: 0, height: 400 });

  const shown = showVerbose ? store.count : store.quietCount;
  const lineAt = (row: number) => (showVerbose ? row : store.quiet[row]);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT;
    setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
  }, []);

  // New lines (or the filter changed): stay at the bottom when following.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (atBottom.current) el.scrollTop = el.scrollHeight;
    setView({ top: el.scrollTop, height: el.clientHeight });
  }, [follow.version, shown, showVerbose]);

  // Which rows are in view: the dashboard's computation (windowOf). The view itself is measured
  // here, not by useWindow, because following the tail must scroll and re-measure in the same
  // layout pass (useLayoutEffect above) rather than on the next animation frame. The rows are
  // placed absolutely in a full-height body, so the spacer heights are not needed.
  const { first, last } = windowOf(shown, ROW_HEIGHT, view.top, view.height, MARGIN_ROWS);
  const rows = [];
  for (let row = first; row < last; row++) {
    const index = lineAt(row);
    const line = parseLine(store.lines[index]);
    rows.push(
      <div
        key={index}
        className={KIND_CLASS[store.kinds[index]] ?? 'log-row'}
        style={{ top: row * ROW_HEIGHT }}
        data-line-number={index + 1}
      >
        <span className="log-time" title={line.time}>
          {ISO_TIME.test(line.time) ? line.time.slice(11, 23) : line.time}
        </span>
        <span className="log-category">{line.category}</span>
        <span className="log-message">{line.message}</span>
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      className="log-scroller"
      role="log"
      aria-label="Task log"
      aria-live="off"
      tabIndex={0}
      onScroll={onScroll}
      data-line-count={store.count}
      data-shown-line-count={shown}
      data-log-offset={store.offset}
      data-log-complete={follow.done ? 'true' : 'false'}
      data-reconnecting={follow.reconnecting ? 'true' : 'false'}
    >
      <div className="log-body" style={{ height: shown * ROW_HEIGHT }}>
        {rows}
      </div>
      {shown === 0 && <p className="log-empty">{follow.done ? 'This task wrote no log.' : 'Waiting for the log…'}</p>}
    </div>
  );
}
