// The audit log (issue 13): GET /api/events, newest first, with Octopus's filters (src/api/events.cc)
// kept in the page's URL, so a filtered view can be reloaded, bookmarked and shared.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, apiErrorOf, type ApiError } from '../../api/client';
import { ErrorMessage, Page } from '../../components/Page';
import type { AuditEvent, Collection, EventCategory, User } from './types';
import { formatTime } from './types';
import './configuration.css';

const TAKE = 30;

// The URL's filter names are the API's.
const FILTERS = ['users', 'eventCategories', 'documentTypes', 'projects', 'environments', 'regarding', 'partialName', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];
type Filters = Record<Filter, string>;

interface Named {
  Id: string;
  Name: string;
}


function filtersOf(params: URLSearchParams): Filters {
  const f = {} as Filters;
  for (const k of FILTERS) f[k] = params.get(k) ?? '';
  return f;
}

// The API's query for these filters; dates are local days, `to` includes its whole day.
function apiQuery(f: Filters, skip: number): string {
  const q = new URLSearchParams();
  for (const k of FILTERS) {
    const v = f[k].trim();
    if (!v) continue;
    if (k === 'from') q.set(k, new Date(`${v}T00:00:00`).toISOString());
    else if (k === 'to') q.set(k, new Date(`${v}T23:59:59.999`).toISOString());
    else q.set(k, v);
  }
  q.set('skip', String(skip));
  q.set('take', String(TAKE));
  return q.toString();
}

function useNamed<T>(path: string, map: (x: T) => Named): Named[] {
  const [items, setItems] = useState<Named[]>([]);
  useEffect(() => {
    let live = true;
    // The filter's choices are a convenience: without them the filter is still in the URL.
    api
      .get<T[]>(path)
      .then((xs) => live && setItems(xs.map(map).sort((a, b) => a.Name.localeCompare(b.Name))))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [path]);
  return items;
}

export function Events() {
  const [params, setParams] = useSearchParams();
  const applied = useMemo(() => filtersOf(params), [params]);
  const skip = Math.max(0, Number(params.get('skip') ?? 0) || 0);
  const [draft, setDraft] = useState<Filters>(applied);
  const [page, setPage] = useState<Collection<AuditEvent>>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);

  const users = useNamed<User>('/api/users/all', (u) => ({ Id: u.Id, Name: u.DisplayName && u.DisplayName !== u.Username ? `${u.DisplayName} (${u.Username})` : u.Username }));
  const categories = useNamed<EventCategory>('/api/events/categories', (c) => ({ Id: c.Id, Name: c.Name }));
  // documentTypes: the prefixes of the ids of the documents events are about.
  const documentTypes = useNamed<Named>('/api/events/documenttypes', (t) => ({ Id: t.Id, Name: t.Name }));
  const projects = useNamed<Named>('/api/projects/all', (p) => ({ Id: p.Id, Name: p.Name }));
  const environments = useNamed<Named>('/api/environments/all', (e) => ({ Id: e.Id, Name: e.Name }));

  // The form follows the URL (back and forward buttons, links).
  useEffect(() => setDraft(applied), [applied]);

  const query = apiQuery(applied, skip);
  useEffect(() => {
    let live = true;
    setLoading(true);
    api
      .get<Collection<AuditEvent>>(`/api/events?${query}`)
      .then((p) => {
        if (!live) return;
        setPage(p);
        setError(undefined);
      })
      .catch((e) => live && setError(apiErrorOf(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [query]);

  const go = (f: Filters, nextSkip: number) => {
    const p = new URLSearchParams();
    for (const k of FILTERS) if (f[k].trim()) p.set(k, f[k].trim());
    if (nextSkip > 0) p.set('skip', String(nextSkip));
    setParams(p);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go(draft, 0);
  };
  const clear = () => go(filtersOf(new URLSearchParams()), 0);
  const set = (k: Filter) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));

  const select = (k: Filter, label: string, all: string, choices: Named[]) => (
    <div>
      <label htmlFor={`events-${k}`}>{label}</label>
      <select id={`events-${k}`} value={draft[k]} onChange={set(k)}>
        <option value="">{all}</option>
        {/* A value from the URL that is not (or not yet) among the choices stays selectable. */}
        {draft[k] && !choices.some((c) => c.Id === draft[k]) && <option value={draft[k]}>{draft[k]}</option>}
        {choices.map((c) => (
          <option key={c.Id} value={c.Id}>
            {c.Name}
          </option>
        ))}
      </select>
    </div>
  );

  const total = page?.TotalResults ?? 0;
  const items = page?.Items ?? [];
  const userName = (id: string, fallback: string) => users.find((u) => u.Id === id)?.Name ?? fallback;
  return (
    <Page title="Events">
      <form className="events-filters" onSubmit={submit} aria-label="Filter events" noValidate>
        {select('users', 'User', 'All users', users)}
        {select('eventCategories', 'Category', 'All categories', categories)}
        {select('documentTypes', 'Document type', 'All document types', documentTypes)}
        {select('projects', 'Project', 'All projects', projects)}
        {select('environments', 'Environment', 'All environments', environments)}
        <div>
          <label htmlFor="events-regarding">Regarding document</label>
          <input id="events-regarding" value={draft.regarding} onChange={set('regarding')} placeholder="e.g. Users-2" autoComplete="off" />
        </div>
        <div>
          <label htmlFor="events-partialName">Message contains</label>
          <input id="events-partialName" value={draft.partialName} onChange={set('partialName')} autoComplete="off" />
        </div>
        <div>
          <label htmlFor="events-from">From date</label>
          <input id="events-from" type="date" value={draft.from} onChange={set('from')} />
        </div>
        <div>
          <label htmlFor="events-to">To date</label>
          <input id="events-to" type="date" value={draft.to} onChange={set('to')} />
        </div>
        <div className="button-row">
          <button type="submit">Apply filters</button>
          <button type="button" onClick={clear}>
            Clear filters
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {!page && !error && <p role="status">Loading…</p>}
      {page && (
        <>
          <p className="muted" role="status" aria-live="polite">
            {loading
              ? 'Loading…'
              : total === 0
                ? 'No events match.'
                : `Events ${skip + 1}–${skip + items.length} of ${total}, newest first.`}
          </p>
          {items.length > 0 && (
            <div className="table-wrap">
              <table className="list">
                <caption className="visually-hidden">Events</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">User</th>
                    <th scope="col">Category</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((e) => (
                    <tr key={e.Id} data-event={e.Id}>
                      <td>
                        <time dateTime={e.Occurred}>{formatTime(e.Occurred)}</time>
                      </td>
                      <td>
                        {e.UserId && e.UserId.toLowerCase().startsWith('users-') && e.UserId !== 'users-system' ? (
                          <Link to={`/configuration/users/${encodeURIComponent(e.UserId)}`}>{userName(e.UserId, e.Username)}</Link>
                        ) : (
                          e.Username
                        )}
                      </td>
                      <td>{e.Category}</td>
                      <td>{e.Message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav className="pager" aria-label="Event pages">
            <button type="button" onClick={() => go(applied, Math.max(0, skip - TAKE))} disabled={skip === 0}>
              Newer
            </button>
            <button type="button" onClick={() => go(applied, skip + TAKE)} disabled={skip + TAKE >= total}>
              Older
            </button>
          </nav>
        </>
      )}
    </Page>
  );
}
