// Tasks: every server task, newest first, polled so it is live. The filters (state, kind,
// active/running) and the page are kept in the URL's query, so a reload or a shared link keeps
// them; they map onto /api/tasks's own parameters (states, name, active, running, skip, take).
import { Link, useSearchParams } from 'react-router-dom';
import { useEffect, useState } from 'react';
import { usePoll } from '../../api/poll';
import { ErrorMessage, Page } from '../../components/Page';
import { formatTime, spanBetween, stateClass } from './format';
import type { Paged, TaskResource } from './types';
import './tasks.css';

const POLL_MS = 2000;
const TAKE = 30;
const STATES = ['Queued', 'Executing', 'Cancelling', 'Success', 'Failed', 'Canceled', 'TimedOut'];
const KINDS = ['Deploy', 'RunbookRun', 'Health', 'AdHocScript', 'Noop'];

export function TasksList() {
  const [params, setParams] = useSearchParams();
  const state = params.get('state') ?? '';
  const kind = params.get('kind') ?? '';
  const show = params.get('show') ?? '';
  const skip = Math.max(0, Number(params.get('skip') ?? 0) || 0);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const query = new URLSearchParams({ skip: String(skip), take: String(TAKE) });
  if (state) query.set('states', state);
  if (kind) query.set('name', kind);
  if (show === 'active') query.set('active', 'true');
  if (show === 'running') query.set('running', 'true');
  const { data, error } = usePoll<Paged<TaskResource>>(`/api/tasks?${query.toString()}`, POLL_MS);

  // A changed filter starts again at the first page.
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    next.delete('skip');
    setParams(next, { replace: true });
  };
  const setSkip = (value: number) => {
    const next = new URLSearchParams(params);
    if (value > 0) next.set('skip', String(value));
    else next.delete('skip');
    setParams(next);
  };

  const total = data?.TotalResults ?? 0;
  return (
    <Page title="Tasks">
      <form className="task-filters" role="search" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
        <div className="task-filter">
          <label htmlFor="task-filter-state">State</label>
          <select id="task-filter-state" value={state} onChange={(e) => setFilter('state', e.target.value)}>
            <option value="">Any state</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="task-filter">
          <label htmlFor="task-filter-kind">Task kind</label>
          <select id="task-filter-kind" value={kind} onChange={(e) => setFilter('kind', e.target.value)}>
            <option value="">Any kind</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div className="task-filter">
          <label htmlFor="task-filter-show">Show</label>
          <select id="task-filter-show" value={show} onChange={(e) => setFilter('show', e.target.value)}>
            <option value="">All tasks</option>
            <option value="active">Active (queued or running)</option>
            <option value="running">Running</option>
          </select>
        </div>
      </form>
      <ErrorMessage error={error} />
      {!data && !error && <p role="status">Loading…</p>}
      {data && data.Items.length === 0 && <p>No tasks match.</p>}
      {data && data.Items.length > 0 && (
        <div className="table-wrap">
          <table className="list">
            <caption className="visually-hidden">Tasks</caption>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Task</th>
                <th scope="col">Kind</th>
                <th scope="col">Queued</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Node</th>
              </tr>
            </thead>
            <tbody>
              {data.Items.map((t) => (
                <tr key={t.Id} data-task-id={t.Id}>
                  <td className={stateClass(t.State)}>
                    <span className="state-name">{t.State}</span>
                    {t.HasPendingInterruptions && ' (waiting)'}
                  </td>
                  <td>
                    <Link to={`/tasks/${encodeURIComponent(t.Id)}`}>{t.Description || t.Id}</Link>
                  </td>
                  <td>{t.Name}</td>
                  <td>{formatTime(t.QueueTime)}</td>
                  <td>{formatTime(t.StartTime)}</td>
                  <td>{t.StartTime ? spanBetween(t.StartTime, t.CompletedTime, now) : ''}</td>
                  <td>{t.ServerNode ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && total > TAKE && (
        <nav className="task-pager" aria-label="Pages of tasks">
          <button type="button" disabled={skip === 0} onClick={() => setSkip(Math.max(0, skip - TAKE))}>
            Previous page
          </button>
          <span>
            {skip + 1}–{Math.min(skip + TAKE, total)} of {total}
          </span>
          <button type="button" disabled={skip + TAKE >= total} onClick={() => setSkip(skip + TAKE)}>
            Next page
          </button>
        </nav>
      )}
    </Page>
  );
}
