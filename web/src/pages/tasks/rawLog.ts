// Reading a task's raw log by byte offset (GET /api/tasks/{id}/raw?offset=N&limit=M) and keeping
// it compactly for the virtualised view.
//
// The raw log is text/plain, so api.get (JSON) cannot read it, and the byte offset must be counted
// in bytes, not in decoded characters: this is the one fetch outside api/client.ts (a GET, which
// needs no CSRF header). Errors are ApiErrors with the API's message, like client.ts's.
import { ApiError } from '../../api/client';

export interface RawChunk {
  bytes: Uint8Array;
  size: number; // X-Cuttle-Log-Size: the whole log's size now
  state: string; // X-Cuttle-Task-State
}

export async function fetchRaw(taskId: string, offset: number, limit: number, signal?: AbortSignal): Promise<RawChunk> {
  const path = `/api/tasks/${encodeURIComponent(taskId)}/raw?offset=${offset}&limit=${limit}`;
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', cache: 'no-store', signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached.');
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    let message = `The server answered ${response.status} (${response.statusText || 'request failed'}).`;
    try {
      const body = JSON.parse(text) as { ErrorMessage?: unknown };
      if (typeof body.ErrorMessage === 'string' && body.ErrorMessage) message = body.ErrorMessage;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message);
  }
  const size = Number(response.headers.get('X-Cuttle-Log-Size'));
  const state = response.headers.get('X-Cuttle-Task-State') ?? '';
  // A body cut short (the serving node died mid-answer) rejects here: nothing of it is kept and
  // the same offset is asked again.
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!Number.isFinite(size)) throw new ApiError(0, 'The log answer carried no size.');
  return { bytes, size, state };
}

export const KIND_OTHER = 0;
export const KIND_VERBOSE = 1;
export const KIND_INFO = 2;
export const KIND_WARNING = 3;
export const KIND_ERROR = 4;

// A log line "<ISO time> <Category padded to 9> | <message>" (src/tasks/task_log.h) split up.
export interface ParsedLine {
  time: string;
  category: string;
  message: string;
}

export function parseLine(line: string): ParsedLine {
  const space = line.indexOf(' ');
  const bar = line.indexOf(' | ');
  if (space < 0 || bar < space) return { time: '', category: '', message: line };
  return { time: line.slice(0, space), category: line.slice(space + 1, bar).trim(), message: line.slice(bar + 3) };
}

function kindOf(line: string): number {
  const space = line.indexOf(' ');
  const bar = line.indexOf(' | ');
  if (space < 0 || bar < space) return KIND_OTHER;
  switch (line.slice(space + 1, bar).trim()) {
    case 'Verbose':
      return KIND_VERBOSE;
    case 'Warning':
      return KIND_WARNING;
    case 'Error':
    case 'Fatal':
      return KIND_ERROR;
    default:
      return KIND_INFO;
  }
}

const NEWLINE = 10;

// The lines read so far: one array of strings, one byte per line for its kind, and the indices of
// the lines that are not Verbose (the view without verbose lines), grown as lines arrive. Bytes
// after the last newline wait in `partial` until their newline arrives, so a line is added once,
// whole, and `offset` is always the exact byte count read.
export class LogStore {
  readonly lines: string[] = [];
  kinds = new Uint8Array(1024);
  quiet = new Int32Array(1024); // indices of non-Verbose lines
  quietCount = 0;
  offset = 0;
  private partial = new Uint8Array(0);
  private readonly decoder = new TextDecoder();

  get count(): number {
    return this.lines.length;
  }

  // Adds a chunk read at `offset`; returns how many lines it completed.
  append(bytes: Uint8Array): number {
    this.offset += bytes.length;
    let data = bytes;
    if (this.partial.length > 0) {
      data = new Uint8Array(this.partial.length + bytes.length);
      data.set(this.partial);
      data.set(bytes, this.partial.length);
    }
    const last = data.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.partial = data.slice();
      return 0;
    }
    const text = this.decoder.decode(data.subarray(0, last));
    this.partial = data.slice(last + 1);
    const before = this.lines.length;
    for (const line of text.split('\n')) this.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    return this.lines.length - before;
  }

  // The log is complete: a last line without its newline is a line too.
  finish(): number {
    if (this.partial.length === 0) return 0;
    this.push(this.decoder.decode(this.partial));
    this.partial = new Uint8Array(0);
    return 1;
  }

  private push(line: string) {
    const i = this.lines.length;
    this.lines.push(line);
    if (i >= this.kinds.length) {
      const k = new Uint8Array(this.kinds.length * 2);
      k.set(this.kinds);
      this.kinds = k;
    }
    const kind = kindOf(line);
    this.kinds[i] = kind;
    if (kind !== KIND_VERBOSE) {
      if (this.quietCount >= this.quiet.length) {
        const q = new Int32Array(this.quiet.length * 2);
        q.set(this.quiet);
        this.quiet = q;
      }
      this.quiet[this.quietCount++] = i;
    }
  }
}
