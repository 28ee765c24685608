// Follows a task's raw log: reads it by byte offset in chunks of whole lines (`limit`), as fast as
// it can while behind the size, then every FOLLOW_MS while the task runs, until the task's state
// is final and the offset reached the size. A failed read (the node serving it died, HAProxy
// moves us to another) is retried every RETRY_MS from the same offset: the store is kept, every
// line arrives once, and `reconnecting` says so meanwhile.
import { useEffect, useRef, useState } from 'react';
import { messageOf } from '../../api/client';
import { isFinal } from './format';
import { fetchRaw, LogStore } from './rawLog';

export const CHUNK_BYTES = 1024 * 1024;
// The first read is small, so the first lines show at once; the rest comes in big chunks.
const FIRST_CHUNK_BYTES = 64 * 1024;
const FOLLOW_MS = 500;
const RETRY_MS = 250;
// A read hanging longer than this (a node that hung or died without closing) is given up and
// retried: short while following (a caught-up read brings a few lines), so a page following a live
// task moves on within ~2 s; longer while catching up on a big log (a 1 MiB chunk on a slow link).
const FOLLOW_READ_TIMEOUT_MS = 1500;
const READ_TIMEOUT_MS = 10000;

export interface LogFollow {
  store: LogStore;
  version: number; // bumped whenever lines were added
  size: number;
  state: string;
  reconnecting: boolean;
  problem?: string; // the last read's error while reconnecting
  done: boolean; // the whole log of a finished task is read
}

export function useLogFollower(taskId: string): LogFollow {
  const storeRef = useRef<LogStore>(new LogStore());
  const [status, setStatus] = useState<Omit<LogFollow, 'store'>>({
    version: 0,
    size: 0,
    state: '',
    reconnecting: false,
    done: false,
  });

  useEffect(() => {
    const store = new LogStore();
    storeRef.current = store;
    setStatus({ version: 0, size: 0, state: '', reconnecting: false, done: false });
    let stopped = false;
    let controller: AbortController | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });

    const run = async () => {
      let version = 0;
      let caughtUp = false;
      while (!stopped) {
        controller = new AbortController();
        const hung = setTimeout(() => controller?.abort(), caughtUp ? FOLLOW_READ_TIMEOUT_MS : READ_TIMEOUT_MS);
        try {
          const limit = store.offset === 0 ? FIRST_CHUNK_BYTES : CHUNK_BYTES;
          const chunk = await fetchRaw(taskId, store.offset, limit, controller.signal);
          clearTimeout(hung);
          if (stopped) return;
          if (store.append(chunk.bytes) > 0) version++;
          const final = isFinal(chunk.state);
          const done = final && store.offset >= chunk.size;
          if (done && store.finish() > 0) version++;
          setStatus({ version, size: chunk.size, state: chunk.state, reconnecting: false, done });
          if (done) return;
          caughtUp = store.offset >= chunk.size;
          if (!caughtUp && chunk.bytes.length > 0) continue; // behind: read on at once
          await sleep(FOLLOW_MS);
        } catch (e) {
          clearTimeout(hung);
          if (stopped) return;
          setStatus((s) => ({ ...s, reconnecting: true, problem: messageOf(e) }));
          await sleep(RETRY_MS);
        }
      }
    };
    const onVisible = () => {
      if (!document.hidden) wake?.();
    };
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [taskId]);

  return { ...status, store: storeRef.current };
}
