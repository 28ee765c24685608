// Projects: every project of the space, grouped by project group (as Octopus's portal lists
// them), and a form that creates one (POST /api/projects) and opens it. A failed create shows
// the API's own message (a taken name, a missing field).
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { usePoll } from '../../api/poll';
import { ErrorMessage, Page } from '../../components/Page';
import type { NamedResource, ProjectResource } from './types';
import './projects.css';

const POLL_MS = 5000;

export function ProjectsList() {
  const projects = usePoll<ProjectResource[]>('/api/projects/all', POLL_MS);
  const [groups, setGroups] = useState<NamedResource[]>();
  const [lifecycles, setLifecycles] = useState<NamedResource[]>();
  const [loadError, setLoadError] = useState<ApiError>();

  useEffect(() => {
    const controller = new AbortController();
    Promise.all([
      api.get<NamedResource[]>('/api/projectgroups/all', { signal: controller.signal }),
      api.get<NamedResource[]>('/api/lifecycles/all', { signal: controller.signal }),
    ])
      .then(([g, l]) => {
        setGroups(g);
        setLifecycles(l);
      })
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        setLoadError(apiErrorOf(e));
      });
    return () => controller.abort();
  }, []);

  const groupName = new Map((groups ?? []).map((g) => [g.Id, g.Name]));
  const lifecycleName = new Map((lifecycles ?? []).map((l) => [l.Id, l.Name]));
  // Groups in the API's order, then any group a project names that the list did not hold.
  const byGroup = new Map<string, ProjectResource[]>();
  for (const g of groups ?? []) byGroup.set(g.Id, []);
  for (const p of [...(projects.data ?? [])].sort((a, b) => a.Name.localeCompare(b.Name))) {
    if (!byGroup.has(p.ProjectGroupId)) byGroup.set(p.ProjectGroupId, []);
    byGroup.get(p.ProjectGroupId)!.push(p);
  }

  return (
    <Page title="Projects">
      <ErrorMessage error={projects.error} />
      <ErrorMessage error={loadError} />
      <div className="projects-page">
        <div className="projects-list">
          {!projects.data && !projects.error && <p role="status">Loading…</p>}
          {projects.data && projects.data.length === 0 && <p>No projects yet. Create the first one.</p>}
          {projects.data &&
            projects.data.length > 0 &&
            [...byGroup.entries()]
              .filter(([, list]) => list.length > 0)
              .map(([groupId, list]) => {
                const name = groupName.get(groupId) ?? groupId;
                return (
                  <section key={groupId} className="project-group" aria-labelledby={`group-${groupId}`}>
                    <h2 id={`group-${groupId}`}>{name}</h2>
                    <div className="table-wrap">
                      <table className="list">
                        <caption className="visually-hidden">Projects in {name}</caption>
                        <thead>
                          <tr>
                            <th scope="col">Project</th>
                            <th scope="col">Lifecycle</th>
                            <th scope="col">Description</th>
                          </tr>
                        </thead>
                        <tbody>
                          {list.map((p) => (
                            <tr key={p.Id}>
                              <th scope="row">
                                <Link to={`/projects/${encodeURIComponent(p.Id)}`}>{p.Name}</Link>
                                {p.IsDisabled && <span className="tag">Disabled</span>}
                              </th>
                              <td>{lifecycleName.get(p.LifecycleId) ?? p.LifecycleId}</td>
                              <td className="description">{p.Description}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  </section>
                );
              })}
        </div>
        <CreateProjectForm groups={groups} lifecycles={lifecycles} />
      </div>
    </Page>
  );
}

function CreateProjectForm({ groups, lifecycles }: { groups?: NamedResource[]; lifecycles?: NamedResource[] }) {
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [groupId, setGroupId] = useState('');
  const [lifecycleId, setLifecycleId] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  // The first group and lifecycle are chosen until the user picks another.
  const group = groupId || groups?.[0]?.Id || '';
  const lifecycle = lifecycleId || lifecycles?.[0]?.Id || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.post<ProjectResource>('/api/projects', {
        Name: name,
        ProjectGroupId: group,
        LifecycleId: lifecycle,
        Description: description,
      });
      navigate(`/projects/${encodeURIComponent(created.Id)}`);
    } catch (err) {
      setError(apiErrorOf(err));
      setBusy(false);
    }
  };

  return (
    <form className="panel create-project" onSubmit={submit} aria-labelledby="create-project-title">
      <h2 id="create-project-title">Create a project</h2>
      <div className="field">
        <label htmlFor="project-name">Name</label>
        <input id="project-name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor="project-group">Project group</label>
        <select id="project-group" value={group} onChange={(e) => setGroupId(e.target.value)}>
          {(groups ?? []).map((g) => (
            <option key={g.Id} value={g.Id}>
              {g.Name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="project-lifecycle">Lifecycle</label>
        <select id="project-lifecycle" value={lifecycle} onChange={(e) => setLifecycleId(e.target.value)}>
          {(lifecycles ?? []).map((l) => (
            <option key={l.Id} value={l.Id}>
              {l.Name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="project-description">Description</label>
        <textarea
          id="project-description"
          rows={3}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </div>
      <ErrorMessage error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create project'}
      </button>
    </form>
  );
}
