// One graphile-worker process for bench/tasks_bench.mjs: default settings (concurrency 1, default
// poll interval, LISTEN/NOTIFY), one no-op task `noop`. The task records, in memory, the job's
// created_at (database clock, ms), the time the task function started and the time it returned
// (Date.now(), the same machine clock); the parent asks for them over IPC at the end, so the
// measurement adds no database work to the job. Run with DATABASE_URL set, via child_process.fork.
import { run } from 'graphile-worker';

const records = [];
const runner = await run({
  connectionString: process.env.DATABASE_URL,
  noHandleSignals: true,
  taskList: {
    noop: async (_payload, helpers) => {
      const start = Date.now();
      records.push([String(helpers.job.id), helpers.job.created_at.getTime(), start, Date.now()]);
    },
  },
});

process.on('message', async (m) => {
  if (m === 'report') {
    process.send({ records });
  } else if (m === 'stop') {
    await runner.stop();
    process.exit(0);
  }
});
process.send({ ready: true });
