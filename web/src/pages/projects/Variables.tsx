// A project's variables (issue 13): the project's variable set as an editable table. Each row
// has a name, a value, a Sensitive switch and a scope (environments, roles, machines, channels,
// steps). Sensitive values are write-only: the API never returns them (Value null), so the page
// shows an empty password field that replaces the stored value only when something is typed.
// Save sends the Version read, so a concurrent save is refused with the API's message.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Page, ErrorMessage } from '../../components/Page';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { useProject } from './context';
import { useResource } from '../../api/resource';
import type { Named, ScopeKey, VariableResource, VariableScope, VariableSetResource } from './releaseTypes';
import './releases.css';

interface Row {
  key: number;
  variable: VariableResource;
  value: string;
  // The server holds a sensitive value for this row that the page cannot see.
  storedSecret: boolean;
}

const SCOPES: { key: ScopeKey; label: string; values: (s: VariableSetResource) => Named[] }[] = [
  { key: 'Environment', label: 'Environments', values: (s) => s.ScopeValues.Environments ?? [] },
  { key: 'Role', label: 'Roles', values: (s) => s.ScopeValues.Roles ?? [] },
  { key: 'Machine', label: 'Machines', values: (s) => s.ScopeValues.Machines ?? [] },
  { key: 'Channel', label: 'Channels', values: (s) => s.ScopeValues.Channels ?? [] },
  { key: 'Action', label: 'Steps', values: (s) => s.ScopeValues.Actions ?? [] },
];

let nextKey = 1;

function rowsOf(set: VariableSetResource): Row[] {
  return set.Variables.map((v) => ({
    key: nextKey++,
    variable: v,
    value: v.IsSensitive ? '' : (v.Value ?? ''),
    storedSecret: v.IsSensitive,
  }));
}

function scopeSummary(scope: VariableScope, set: VariableSetResource): string {
  const parts: string[] = [];
  for (const s of SCOPES) {
    const ids = scope[s.key] ?? [];
    if (ids.length === 0) continue;
    const names = new Map(s.values(set).map((n) => [n.Id, n.Name]));
    parts.push(`${s.label}: ${ids.map((id) => names.get(id) ?? id).join(', ')}`);
  }
  return parts.length ? parts.join('; ') : 'Unscoped';
}

function ScopeChooser({
  n,
  scope,
  set,
  onChange,
}: {
  n: number;
  scope: VariableScope;
  set: VariableSetResource;
  onChange: (scope: VariableScope) => void;
}) {
  const toggle = (key: ScopeKey, id: string, on: boolean) => {
    const current = scope[key] ?? [];
    const next = on ? [...current.filter((x) => x !== id), id] : current.filter((x) => x !== id);
    const out: VariableScope = { ...scope };
    if (next.length) out[key] = next;
    else delete out[key];
    onChange(out);
  };
  return (
    <details className="rel-scope">
      <summary>
        <span className="visually-hidden">Scope of variable {n}: </span>
        {scopeSummary(scope, set)}
      </summary>
      {SCOPES.map((s) => {
        const values = s.values(set);
        if (values.length === 0) return null;
        return (
          <fieldset key={s.key}>
            <legend>{s.label}</legend>
            <div className="choices">
              {values.map((v) => {
                const id = `var-${n}-${s.key}-${v.Id}`;
                return (
                  <div className="check" key={v.Id}>
                    <input
                      type="checkbox"
                      id={id}
                      checked={(scope[s.key] ?? []).includes(v.Id)}
                      onChange={(e) => toggle(s.key, v.Id, e.target.checked)}
                    />
                    <label htmlFor={id}>{v.Name}</label>
                  </div>
                );
              })}
            </div>
          </fieldset>
        );
      })}
    </details>
  );
}

export function Variables() {
  const { project } = useProject();
  const loaded = useResource<VariableSetResource>(
    `/api/variables/${encodeURIComponent(project.VariableSetId)}`,
  );
  const [set, setSet] = useState<VariableSetResource>();
  const [rows, setRows] = useState<Row[]>([]);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (!loaded.data) return;
    setSet(loaded.data);
    setRows(rowsOf(loaded.data));
    setError(undefined);
  }, [loaded.data]);

  const update = (key: number, change: (r: Row) => Row) => {
    setSaved(false);
    setRows((rs) => rs.map((r) => (r.key === key ? change(r) : r)));
  };

  const names = useMemo(() => rows.map((r) => r.variable.Name), [rows]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!set) return;
    setSaving(true);
    setError(undefined);
    setSaved(false);
    const Variables = rows.map((r): VariableResource => {
      const v = r.variable;
      let Value: string | null = r.value;
      // Untouched write-only value: null keeps the stored secret.
      if (v.IsSensitive && r.storedSecret && r.value === '') Value = null;
      return { ...v, Type: v.IsSensitive ? 'Sensitive' : v.Type === 'Sensitive' ? 'String' : v.Type, Value };
    });
    try {
      const answer = await api.put<VariableSetResource>(`/api/variables/${encodeURIComponent(set.Id)}`, {
        Id: set.Id,
        OwnerId: set.OwnerId,
        Version: set.Version,
        Variables,
      });
      setSet(answer);
      setRows(rowsOf(answer));
      setSaved(true);
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setSaving(false);
    }
  };

  const add = () => {
    setSaved(false);
    setRows((rs) => [
      ...rs,
      { key: nextKey++, variable: { Name: '', Value: '', Type: 'String', IsSensitive: false, Scope: {} }, value: '', storedSecret: false },
    ]);
  };

  return (
    <Page title="Variables">
      <div className="rel-page">
        <ErrorMessage error={loaded.error} />
        {!set && !loaded.error && <p role="status">Loading…</p>}
        {set && (
          <form onSubmit={save} aria-label="Project variables">
            {rows.length === 0 ? (
              <p>This project has no variables yet.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Project variables</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Value</th>
                      <th scope="col">Sensitive</th>
                      <th scope="col">Scope</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r, i) => {
                      const n = i + 1;
                      const v = r.variable;
                      const duplicate = v.Name !== '' && names.filter((x) => x === v.Name).length > 1;
                      return (
                        <tr key={r.key}>
                          <td>
                            <input
                              aria-label={`Variable ${n} name`}
                              value={v.Name}
                              required
                              onChange={(e) => update(r.key, (x) => ({ ...x, variable: { ...x.variable, Name: e.target.value } }))}
                            />
                            {duplicate && <span className="visually-hidden"> (scoped duplicate name)</span>}
                          </td>
                          <td>
                            {v.IsSensitive ? (
                              <input
                                type="password"
                                autoComplete="new-password"
                                aria-label={`Variable ${n} value`}
                                placeholder={r.storedSecret ? 'Stored. Type to replace' : 'Sensitive value'}
                                value={r.value}
                                onChange={(e) => update(r.key, (x) => ({ ...x, value: e.target.value }))}
                              />
                            ) : (
                              <input
                                aria-label={`Variable ${n} value`}
                                placeholder={r.storedSecret ? 'Enter a new value' : undefined}
                                value={r.value}
                                onChange={(e) => update(r.key, (x) => ({ ...x, value: e.target.value }))}
                              />
                            )}
                            {v.Type !== 'String' && v.Type !== 'Sensitive' && <span className="muted"> {v.Type}</span>}
                          </td>
                          <td>
                            <input
                              type="checkbox"
                              aria-label={`Variable ${n} sensitive`}
                              checked={v.IsSensitive}
                              onChange={(e) =>
                                update(r.key, (x) => ({
                                  ...x,
                                  variable: { ...x.variable, IsSensitive: e.target.checked },
                                }))
                              }
                            />
                          </td>
                          <td>
                            <ScopeChooser
                              n={n}
                              scope={v.Scope ?? {}}
                              set={set}
                              onChange={(scope) => update(r.key, (x) => ({ ...x, variable: { ...x.variable, Scope: scope } }))}
                            />
                          </td>
                          <td>
                            <button
                              type="button"
                              onClick={() => {
                                setSaved(false);
                                setRows((rs) => rs.filter((x) => x.key !== r.key));
                              }}
                            >
                              Delete<span className="visually-hidden"> variable {n}</span>
                            </button>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
            <ErrorMessage error={error} />
            <div className="rel-actions">
              <button type="button" onClick={add}>
                Add variable
              </button>
              <button type="submit" className="primary" disabled={saving}>
                {saving ? 'Saving…' : 'Save'}
              </button>
              {error?.status === 409 && (
                <button type="button" onClick={loaded.reload}>
                  Discard changes and reload
                </button>
              )}
              <span role="status" className="status">
                {saved ? 'Saved.' : ''}
              </span>
            </div>
          </form>
        )}
      </div>
    </Page>
  );
}
