// A project's channels (issue 13): list, create, edit and delete. A channel has a name, a
// description, a lifecycle (or the project's), whether it is the default, and version rules
// that limit the package versions of chosen steps (a NuGet range and a pre-release tag regex).
import { useState, type FormEvent } from 'react';
import { Page, ErrorMessage } from '../../components/Page';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { useProject } from './context';
import { useResource } from '../../api/resource';
import type {
  ChannelResource,
  ChannelRule,
  Collection,
  LifecycleResource,
  ProcessResource,
  ProjectResource,
} from './releaseTypes';
import './releases.css';

interface Draft {
  Id?: string;
  Name: string;
  Description: string;
  LifecycleId: string;
  IsDefault: boolean;
  Rules: ChannelRule[];
}

const emptyDraft: Draft = { Name: '', Description: '', LifecycleId: '', IsDefault: false, Rules: [] };

// The package references of the process as "action" or "action/reference".
function packageActions(process?: ProcessResource): { action: string; reference: string | null; label: string }[] {
  const out: { action: string; reference: string | null; label: string }[] = [];
  for (const step of process?.Steps ?? []) {
    for (const a of step.Actions ?? []) {
      for (const p of a.Packages ?? []) {
        const reference = p.Name ? p.Name : null;
        out.push({ action: a.Name, reference, label: reference ? `${a.Name} (${reference})` : `${a.Name} (${p.PackageId})` });
      }
    }
  }
  return out;
}

function ChannelForm({
  project,
  lifecycles,
  process,
  initial,
  onDone,
  onCancel,
}: {
  project: ProjectResource;
  lifecycles: LifecycleResource[];
  process?: ProcessResource;
  initial: Draft;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(initial);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const editing = initial.Id !== undefined;
  const packages = packageActions(process);
  const projectLifecycle = lifecycles.find((l) => l.Id === project.LifecycleId)?.Name ?? project.LifecycleId;

  const setRule = (i: number, rule: ChannelRule) => setDraft((d) => ({ ...d, Rules: d.Rules.map((r, j) => (j === i ? rule : r)) }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const body = {
      Name: draft.Name,
      Description: draft.Description,
      ProjectId: project.Id,
      LifecycleId: draft.LifecycleId === '' ? null : draft.LifecycleId,
      IsDefault: draft.IsDefault,
      Rules: draft.Rules,
    };
    try {
      if (editing) await api.put(`/api/channels/${encodeURIComponent(initial.Id!)}`, body);
      else await api.post('/api/channels', body);
      onDone();
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="rel-form" onSubmit={submit} aria-labelledby="channel-form-title">
      <h2 id="channel-form-title">{editing ? `Edit channel ${initial.Name}` : 'New channel'}</h2>
      <label htmlFor="channel-name">Name</label>
      <input id="channel-name" value={draft.Name} required onChange={(e) => setDraft({ ...draft, Name: e.target.value })} />
      <label htmlFor="channel-description">Description</label>
      <textarea
        id="channel-description"
        value={draft.Description}
        onChange={(e) => setDraft({ ...draft, Description: e.target.value })}
      />
      <label htmlFor="channel-lifecycle">Lifecycle</label>
      <select id="channel-lifecycle" value={draft.LifecycleId} onChange={(e) => setDraft({ ...draft, LifecycleId: e.target.value })}>
        <option value="">Inherit from the project ({projectLifecycle})</option>
        {lifecycles.map((l) => (
          <option key={l.Id} value={l.Id}>
            {l.Name}
          </option>
        ))}
      </select>
      <div className="check">
        <input
          id="channel-default"
          type="checkbox"
          checked={draft.IsDefault}
          disabled={editing && initial.IsDefault}
          onChange={(e) => setDraft({ ...draft, IsDefault: e.target.checked })}
        />
        <label htmlFor="channel-default">Default channel</label>
      </div>
      {editing && initial.IsDefault && <p className="hint">To change the default, make another channel the default.</p>}

      <fieldset>
        <legend>Version rules</legend>
        {draft.Rules.length === 0 && <p className="hint">No rules: any package version may be released in this channel.</p>}
        {draft.Rules.map((rule, i) => {
          const n = i + 1;
          return (
            <fieldset key={rule.Id ?? `new-${i}`}>
              <legend>Rule {n}</legend>
              <label htmlFor={`rule-${n}-range`}>Rule {n} version range</label>
              <input
                id={`rule-${n}-range`}
                placeholder="[1.0,2.0)"
                value={rule.VersionRange}
                onChange={(e) => setRule(i, { ...rule, VersionRange: e.target.value })}
              />
              <label htmlFor={`rule-${n}-tag`}>Rule {n} pre-release tag</label>
              <input
                id={`rule-${n}-tag`}
                placeholder="^$ (stable only)"
                value={rule.Tag}
                onChange={(e) => setRule(i, { ...rule, Tag: e.target.value })}
              />
              <p className="hint">Applies to the packages of:</p>
              {packages.length === 0 && <p className="hint">The deployment process has no package steps.</p>}
              {packages.map((p) => {
                const id = `rule-${n}-${p.action}-${p.reference ?? ''}`;
                const on = rule.ActionPackages.some(
                  (ap) => ap.DeploymentAction === p.action && (ap.PackageReference ?? '') === (p.reference ?? ''),
                );
                return (
                  <div className="check" key={id}>
                    <input
                      id={id}
                      type="checkbox"
                      checked={on}
                      onChange={(e) =>
                        setRule(i, {
                          ...rule,
                          ActionPackages: e.target.checked
                            ? [...rule.ActionPackages, { DeploymentAction: p.action, PackageReference: p.reference }]
                            : rule.ActionPackages.filter(
                                (ap) => !(ap.DeploymentAction === p.action && (ap.PackageReference ?? '') === (p.reference ?? '')),
                              ),
                        })
                      }
                    />
                    <label htmlFor={id}>
                      <span className="visually-hidden">Rule {n} applies to </span>
                      {p.label}
                    </label>
                  </div>
                );
              })}
              <button type="button" onClick={() => setDraft((d) => ({ ...d, Rules: d.Rules.filter((_, j) => j !== i) }))}>
                Remove rule {n}
              </button>
            </fieldset>
          );
        })}
        <button
          type="button"
          onClick={() => setDraft((d) => ({ ...d, Rules: [...d.Rules, { VersionRange: '', Tag: '', ActionPackages: [] }] }))}
        >
          Add version rule
        </button>
      </fieldset>
      <ErrorMessage error={error} />
      <div className="rel-actions">
        <button type="submit" className="primary" disabled={busy}>
          {editing ? 'Save channel' : 'Create channel'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function Channels() {
  const { project } = useProject();
  const projectId = project.Id;
  const channels = useResource<Collection<ChannelResource>>(
    `/api/projects/${encodeURIComponent(projectId)}/channels?take=1000`,
  );
  const lifecycles = useResource<LifecycleResource[]>('/api/lifecycles/all');
  const process = useResource<ProcessResource>(
    `/api/deploymentprocesses/${encodeURIComponent(project.DeploymentProcessId)}`,
  );
  const [editing, setEditing] = useState<Draft>();
  const [error, setError] = useState<ApiError>();
  const lifecycleName = (id: string | null) =>
    id ? (lifecycles.data?.find((l) => l.Id === id)?.Name ?? id) : 'Inherited from the project';

  const remove = async (c: ChannelResource) => {
    setError(undefined);
    try {
      await api.del(`/api/channels/${encodeURIComponent(c.Id)}`);
      channels.reload();
    } catch (err) {
      setError(apiErrorOf(err));
    }
  };

  return (
    <Page
      title="Channels"
      actions={
        !editing && (
          <button type="button" className="primary" onClick={() => setEditing({ ...emptyDraft })}>
            Add channel
          </button>
        )
      }
    >
      <div className="rel-page">
        <ErrorMessage error={channels.error ?? lifecycles.error} />
        <ErrorMessage error={error} />
        {!channels.data && !channels.error && <p role="status">Loading…</p>}
        {editing && (
          <ChannelForm
            key={editing.Id ?? 'new'}
            project={project}
            lifecycles={lifecycles.data ?? []}
            process={process.data}
            initial={editing}
            onCancel={() => setEditing(undefined)}
            onDone={() => {
              setEditing(undefined);
              channels.reload();
            }}
          />
        )}
        {channels.data && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Channels</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Description</th>
                  <th scope="col">Lifecycle</th>
                  <th scope="col">Default</th>
                  <th scope="col">Version rules</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {channels.data.Items.map((c) => (
                  <tr key={c.Id}>
                    <th scope="row">{c.Name}</th>
                    <td>{c.Description}</td>
                    <td>{lifecycleName(c.LifecycleId)}</td>
                    <td>{c.IsDefault ? 'Default' : ''}</td>
                    <td>
                      {c.Rules.length === 0
                        ? 'None'
                        : c.Rules.map((r) => [r.VersionRange, r.Tag && `tag ${r.Tag}`].filter(Boolean).join(' ')).join('; ')}
                    </td>
                    <td>
                      <div className="rel-actions">
                      <button
                        type="button"
                        onClick={() =>
                          setEditing({
                            Id: c.Id,
                            Name: c.Name,
                            Description: c.Description ?? '',
                            LifecycleId: c.LifecycleId ?? '',
                            IsDefault: c.IsDefault,
                            Rules: c.Rules ?? [],
                          })
                        }
                      >
                        Edit<span className="visually-hidden"> {c.Name}</span>
                      </button>
                      {!c.IsDefault && (
                        <button type="button" onClick={() => void remove(c)}>
                          Delete<span className="visually-hidden"> {c.Name}</span>
                        </button>
                      )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Page>
  );
}
