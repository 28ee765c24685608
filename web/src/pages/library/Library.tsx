// Library: the built-in feed. Upload a package with a progress bar (XMLHttpRequest, upload.ts),
// list the packages (the latest version of each, filtered by id, a page at a time), a package's
// versions, and delete a version (confirmed). Failures show the API's own message.
import { useRef, useState, type FormEvent } from 'react';
import { Page, ErrorMessage } from '../../components/Page';
import { usePoll } from '../../api/poll';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { ConfirmDelete } from '../infrastructure/common';
import { uploadPackage } from './upload';
import type { PackageCollection, PackageResource } from './types';
import './library.css';

const PAGE_SIZE = 30;
const POLL_MS = 10000;


export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

function Upload({ onUploaded }: { onUploaded: (p: PackageResource) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [replace, setReplace] = useState(false);
  const [percent, setPercent] = useState<number>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  const controller = useRef<AbortController>();
  const input = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) {
      setError(new ApiError(0, 'Choose a package file to upload.'));
      return;
    }
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    setPercent(0);
    controller.current = new AbortController();
    try {
      const p = await uploadPackage(file, {
        replace,
        signal: controller.current.signal,
        onProgress: ({ loaded, total }) => setPercent(total > 0 ? Math.min(100, Math.floor((loaded * 100) / total)) : 0),
      });
      setPercent(100);
      setDone(`Uploaded ${p.PackageId} ${p.Version} (${formatSize(p.PackageSizeBytes)}).`);
      setFile(null);
      if (input.current) input.current.value = '';
      onUploaded(p);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') {
        setError(new ApiError(0, 'The upload was canceled.'));
        setPercent(undefined);
      } else {
        setError(apiErrorOf(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="upload-form" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Upload a package</h2>
      <label htmlFor="package-file">Package file</label>
      <input
        id="package-file"
        ref={input}
        type="file"
        accept=".zip,.nupkg,.tar.gz,.tgz,.tar,.tar.bz2,.tbz,.jar,.war,.ear"
        onChange={(e) => {
          setFile(e.target.files?.[0] ?? null);
          setError(undefined);
          setDone(undefined);
          setPercent(undefined);
        }}
        aria-describedby="package-file-hint"
        disabled={busy}
      />
      <p className="lib-hint" id="package-file-hint">
        Named <code>&lt;PackageId&gt;.&lt;Version&gt;.&lt;extension&gt;</code>, e.g. <code>Acme.Web.1.2.0.zip</code>; a
        .nupkg is read from its .nuspec.
      </p>
      <label className="check">
        <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} disabled={busy} />
        Replace the version if it is already in the feed
      </label>
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy || !file}>
          Upload
        </button>
        {busy && (
          <button type="button" onClick={() => controller.current?.abort()}>
            Cancel upload
          </button>
        )}
      </div>
      {percent !== undefined && (
        <div className="upload-progress">
          <label htmlFor="upload-progress">Upload progress</label>
          <progress id="upload-progress" max={100} value={percent}>
            {percent}%
          </progress>
          <span className="percent" data-testid="upload-percent">
            {percent}%
          </span>
        </div>
      )}
      <p role="status" className="lib-hint">
        {busy && percent === 100 ? 'Sent; the server is storing the package…' : done}
      </p>
      <ErrorMessage error={error} />
    </form>
  );
}

function Versions({ packageId, onChanged }: { packageId: string; onChanged: () => void }) {
  const path = `/api/packages?nuGetPackageId=${encodeURIComponent(packageId)}&take=100`;
  const { data, error, refresh } = usePoll<PackageCollection>(path, POLL_MS);
  const [deleting, setDeleting] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();

  const remove = async (p: PackageResource) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await api.del(`/api/packages/${encodeURIComponent(p.Id)}`);
      setNotice(`Deleted ${p.PackageId} ${p.Version}.`);
      setDeleting(undefined);
      refresh();
      onChanged();
    } catch (e) {
      setActionError(apiErrorOf(e));
    } finally {
      setBusy(false);
    }
  };

  const headingId = `versions-${packageId}`;
  return (
    <section className="versions" aria-labelledby={headingId}>
      <h3 id={headingId}>Versions of {packageId}</h3>
      <p role="status" className="lib-hint">
        {notice}
      </p>
      <ErrorMessage error={actionError} />
      <ErrorMessage error={error} />
      {data && data.Items.length === 0 && <p>No versions left.</p>}
      {data && data.Items.length > 0 && (
        <div className="table-wrap">
          <table className="list" aria-labelledby={headingId}>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Published</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.Items.map((p) => (
                <tr key={p.Id}>
                  <th scope="row">{p.Version}</th>
                  <td>
                    <time dateTime={p.Published}>{new Date(p.Published).toLocaleString()}</time>
                  </td>
                  <td>{formatSize(p.PackageSizeBytes)}</td>
                  <td>
                    <code title={p.Sha256}>{p.Sha256.slice(0, 12)}…</code>
                  </td>
                  <td className="actions">
                    {deleting === p.Id ? (
                      <ConfirmDelete
                        question={`Delete ${p.PackageId} ${p.Version} from the feed?`}
                        busy={busy}
                        onConfirm={() => remove(p)}
                        onCancel={() => setDeleting(undefined)}
                      />
                    ) : (
                      <>
                        <a
                          href={`/api/packages/${encodeURIComponent(p.Id)}/raw`}
                          download
                          aria-label={`Download ${p.PackageId} ${p.Version}`}
                        >
                          Download
                        </a>
                        <button
                          type="button"
                          aria-label={`Delete ${p.PackageId} ${p.Version}`}
                          onClick={() => setDeleting(p.Id)}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function Library() {
  const [filter, setFilter] = useState('');
  const [skip, setSkip] = useState(0);
  const [open, setOpen] = useState<string>();
  const [versionsKey, setVersionsKey] = useState(0);
  const query = new URLSearchParams({ latest: 'true', skip: String(skip), take: String(PAGE_SIZE) });
  if (filter.trim()) query.set('filter', filter.trim());
  const { data, error, refresh } = usePoll<PackageCollection>(`/api/packages?${query}`, POLL_MS);
  const total = data?.TotalResults ?? 0;

  return (
    <Page title="Library">
      <p>Packages in the built-in feed, for package steps to deploy.</p>
      <Upload
        onUploaded={() => {
          refresh();
          setVersionsKey((k) => k + 1);
        }}
      />
      <h2>Packages</h2>
      <div className="lib-search" role="search">
        <label>
          <span id="package-search-label">Search packages</span>
          <input
            aria-labelledby="package-search-label"
            type="search"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value);
              setSkip(0);
            }}
            autoComplete="off"
          />
        </label>
      </div>
      <ErrorMessage error={error} />
      {!data && !error && <p role="status">Loading…</p>}
      {data && data.Items.length === 0 && <p>{filter.trim() ? 'No package matches.' : 'No packages yet: upload one.'}</p>}
      {data && data.Items.length > 0 && (
        <div className="table-wrap">
          <table className="list" aria-label="Packages">
            <thead>
              <tr>
                <th scope="col">Package</th>
                <th scope="col">Latest version</th>
                <th scope="col">Published</th>
                <th scope="col">Size</th>
                <th scope="col">Versions</th>
              </tr>
            </thead>
            <tbody>
              {data.Items.map((p) => (
                <tr key={p.PackageId} data-package={p.PackageId}>
                  <th scope="row">{p.PackageId}</th>
                  <td>{p.Version}</td>
                  <td>
                    <time dateTime={p.Published}>{new Date(p.Published).toLocaleString()}</time>
                  </td>
                  <td>{formatSize(p.PackageSizeBytes)}</td>
                  <td>
                    <button
                      type="button"
                      aria-expanded={open === p.PackageId}
                      aria-label={`Versions of ${p.PackageId}`}
                      onClick={() => setOpen((o) => (o === p.PackageId ? undefined : p.PackageId))}
                    >
                      {open === p.PackageId ? 'Hide versions' : 'Show versions'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && total > PAGE_SIZE && (
        <div className="pager">
          <button type="button" disabled={skip === 0} onClick={() => setSkip(Math.max(0, skip - PAGE_SIZE))}>
            Previous page
          </button>
          <span>
            {skip + 1}–{Math.min(skip + PAGE_SIZE, total)} of {total}
          </span>
          <button type="button" disabled={skip + PAGE_SIZE >= total} onClick={() => setSkip(skip + PAGE_SIZE)}>
            Next page
          </button>
        </div>
      )}
      {open && <Versions key={`${open}/${versionsKey}`} packageId={open} onChanged={refresh} />}
    </Page>
  );
}
