// A small code editor: a monospace <textarea> with a line-number gutter that follows its scroll.
// Tab inserts two spaces (or indents the selected lines), Shift+Tab unindents. So that Tab never
// traps the keyboard, Esc hands Tab back to the browser until the editor is left or typed in
// (said in the field's description). Edits go through execCommand('insertText') where the browser
// has it, so the textarea's own undo (Ctrl+Z) keeps working.
import { useCallback, useRef, useState, type KeyboardEvent } from 'react';

const INDENT = '  ';

export interface CodeEditorProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  rows?: number;
  language?: string;
}

// Replaces [start, end) with `text` and selects [selStart, selEnd) afterwards.
function replaceRange(
  el: HTMLTextAreaElement,
  start: number,
  end: number,
  text: string,
  selStart: number,
  selEnd: number,
  onChange: (v: string) => void,
) {
  el.focus();
  el.setSelectionRange(start, end);
  let done = false;
  try {
    done = text === '' ? document.execCommand('delete') : document.execCommand('insertText', false, text);
  } catch {
    done = false;
  }
  if (!done || el.value.slice(start, start + text.length) !== text) {
    el.setRangeText(text, start, end, 'end');
    onChange(el.value);
  }
  el.setSelectionRange(selStart, selEnd);
}

export function CodeEditor({ id, label, value, onChange, rows = 14, language }: CodeEditorProps) {
  const gutter = useRef<HTMLDivElement>(null);
  const [tabMoves, setTabMoves] = useState(false);
  const lines = value.split('\n').length;

  const syncScroll = useCallback((el: HTMLTextAreaElement) => {
    if (gutter.current) gutter.current.scrollTop = el.scrollTop;
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    const el = e.currentTarget;
    if (e.key === 'Escape') {
      setTabMoves(true);
      return;
    }
    if (e.key !== 'Tab' || e.ctrlKey || e.altKey || e.metaKey) {
      if (tabMoves && e.key !== 'Shift') setTabMoves(false);
      return;
    }
    if (tabMoves) return; // the browser moves focus
    e.preventDefault();
    const { selectionStart: start, selectionEnd: end, value: text } = el;
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const multiLine = text.slice(start, end).includes('\n');
    if (!e.shiftKey && !multiLine) {
      replaceRange(el, start, end, INDENT, start + INDENT.length, start + INDENT.length, onChange);
    } else {
      // Every line the selection touches (a selection ending at a line's start leaves that line).
      const lastChar = end > start && text[end - 1] === '\n' ? end - 1 : end;
      let blockEnd = text.indexOf('\n', lastChar);
      if (blockEnd < 0) blockEnd = text.length;
      const block = text.slice(lineStart, blockEnd).split('\n');
      let firstDelta = 0;
      let total = 0;
      const changed = block.map((line, i) => {
        let next: string;
        if (e.shiftKey) {
          const n = line.startsWith(INDENT) ? INDENT.length : line.startsWith(' ') || line.startsWith('\t') ? 1 : 0;
          next = line.slice(n);
        } else {
          next = line === '' ? line : INDENT + line;
        }
        const delta = next.length - line.length;
        if (i === 0) firstDelta = delta;
        total += delta;
        return next;
      });
      const replacement = changed.join('\n');
      if (total === 0) return;
      const newStart = Math.max(lineStart, start + firstDelta);
      const newEnd = multiLine ? end + total : Math.max(lineStart, end + firstDelta);
      replaceRange(el, lineStart, blockEnd, replacement, newStart, newEnd, onChange);
    }
    syncScroll(el);
  };

  const numbers = Array.from({ length: lines }, (_, i) => i + 1).join('\n');
  return (
    <div className="code-editor">
      <div className="code-editor-body">
        <div className="code-gutter" ref={gutter} aria-hidden="true">
          <pre>{numbers}</pre>
        </div>
        <textarea
          id={id}
          aria-label={label}
          aria-describedby={`${id}-keys`}
          className="code-input"
          value={value}
          rows={rows}
          wrap="off"
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          autoComplete="off"
          data-language={language}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
          onScroll={(e) => syncScroll(e.currentTarget)}
          onBlur={() => setTabMoves(false)}
        />
      </div>
      <p className="hint" id={`${id}-keys`}>
        {tabMoves
          ? 'Tab now moves to the next field.'
          : 'Tab inserts two spaces, Shift+Tab unindents; press Esc then Tab to leave the editor.'}
      </p>
    </div>
  );
}
