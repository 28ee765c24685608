// A project's runbooks (issue 13): the list, and a form that creates one and opens it.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { useProject } from './context';
import { useResource } from '../../api/resource';
import type { Collection, RunbookResource } from './releaseTypes';
import './releases.css';

export function Runbooks() {
  const { project } = useProject();
  const projectId = project.Id;
  const runbooks = useResource<Collection<RunbookResource>>(
    `/api/projects/${encodeURIComponent(projectId)}/runbooks?take=1000`,
  );
  const navigate = useNavigate();
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const rb = await api.post<RunbookResource>(`/api/projects/${encodeURIComponent(projectId)}/runbooks`, {
        Name: name,
        Description: description,
        ProjectId: projectId,
      });
      navigate(`/projects/${encodeURIComponent(projectId)}/runbooks/${encodeURIComponent(rb.Id)}`);
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page
      title="Runbooks"
      actions={
        !adding && (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add runbook
          </button>
        )
      }
    >
      <div className="rel-page">
        <ErrorMessage error={runbooks.error} />
        {adding && (
          <form className="rel-form" onSubmit={create} aria-labelledby="runbook-form-title">
            <h2 id="runbook-form-title">New runbook</h2>
            <label htmlFor="runbook-name">Name</label>
            <input id="runbook-name" value={name} required onChange={(e) => setName(e.target.value)} />
            <label htmlFor="runbook-description">Description</label>
            <textarea id="runbook-description" value={description} onChange={(e) => setDescription(e.target.value)} />
            <ErrorMessage error={error} />
            <div className="rel-actions">
              <button type="submit" className="primary" disabled={busy}>
                Create runbook
              </button>
              <button type="button" onClick={() => setAdding(false)}>
                Cancel
              </button>
            </div>
          </form>
        )}
        {!runbooks.data && !runbooks.error && <p role="status">Loading…</p>}
        {runbooks.data && runbooks.data.Items.length === 0 && <p>This project has no runbooks yet.</p>}
        {runbooks.data && runbooks.data.Items.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Runbooks</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Description</th>
                  <th scope="col">Published</th>
                </tr>
              </thead>
              <tbody>
                {runbooks.data.Items.map((rb) => (
                  <tr key={rb.Id}>
                    <th scope="row">
                      <Link to={`/projects/${encodeURIComponent(projectId)}/runbooks/${encodeURIComponent(rb.Id)}`}>{rb.Name}</Link>
                    </th>
                    <td>{rb.Description}</td>
                    <td>{rb.PublishedRunbookSnapshotId ? 'Published' : 'Not published'}</td>
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
