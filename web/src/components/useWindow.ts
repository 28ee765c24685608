// useWindow: which rows of a long, fixed-row-height list are in view inside a scroller, so a page
// renders those (plus a margin) and stands the rest in with two spacers. The dashboard's 1,000
// projects and the task log's 100,000 lines are drawn this way: the DOM stays a few dozen rows
// whatever the data's size, so the first paint and every scroll frame cost the same. (The task log,
// pages/tasks/LogView.tsx, measures its scroller itself to follow the tail, and shares windowOf.)
import { useCallback, useEffect, useRef, useState } from 'react';

export interface RowWindow {
  first: number; // index of the first rendered row
  last: number; // one past the last rendered row
  before: number; // height in px standing in for rows [0, first)
  after: number; // height in px standing in for rows [last, count)
}

export function windowOf(count: number, rowHeight: number, scrollTop: number, viewHeight: number, margin: number): RowWindow {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - margin);
  const last = Math.min(count, Math.ceil((scrollTop + viewHeight) / rowHeight) + margin);
  const shown = Math.max(first, last);
  return { first, last: shown, before: first * rowHeight, after: (count - shown) * rowHeight };
}

// `scroller` is a callback ref for the element that scrolls (it may appear after the first render,
// once data arrived); its height bounds the view (before the first layout a view of
// `initialHeight` px is assumed, so the first render already shows the top rows).
export function useWindow(count: number, rowHeight: number, margin = 10, initialHeight = 1000) {
  const [el, scroller] = useState<HTMLDivElement | null>(null);
  const [view, setView] = useState({ top: 0, height: initialHeight });
  const frame = useRef(0);

  const measure = useCallback(() => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      if (el) setView({ top: el.scrollTop, height: el.clientHeight || initialHeight });
    });
  }, [el, initialHeight]);

  useEffect(() => {
    if (!el) return;
    measure();
    el.addEventListener('scroll', measure, { passive: true });
    const resized = new ResizeObserver(measure);
    resized.observe(el);
    return () => {
      el.removeEventListener('scroll', measure);
      resized.disconnect();
      cancelAnimationFrame(frame.current);
    };
  }, [el, measure]);

  return { scroller, element: el, ...windowOf(count, rowHeight, view.top, view.height, margin) };
}
