// Create a release (issue 13): the version (proposed from the project's versioning template and
// the last release), the channel, release notes, and a package version picker: for each package
// of the deployment process, the versions in the built-in feed (those the channel's rules allow),
// defaulting to the latest. POST /api/releases, then the release's page.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { useProject } from './context';
import { useResource } from '../../api/resource';
import type {
  ChannelResource,
  Collection,
  PackageVersionResource,
  ProcessResource,
  ReleaseResource,
  SelectedPackage,
} from './releaseTypes';
import { latestVersion, nextReleaseVersion, satisfiesRule, sortVersionsDescending } from './versions';
import './releases.css';

interface PackageSlot {
  key: string;
  stepName: string;
  actionName: string;
  reference: string;
  packageId: string;
  // Chosen by a variable: the version is typed, not picked.
  variable: boolean;
}

function slotsOf(process?: ProcessResource): PackageSlot[] {
  const out: PackageSlot[] = [];
  for (const step of process?.Steps ?? []) {
    for (const a of step.Actions ?? []) {
      if (a.IsDisabled) continue;
      for (const p of a.Packages ?? []) {
        const reference = p.Name ?? '';
        out.push({
          key: `${a.Name}\u0000${reference}`,
          stepName: step.Name,
          actionName: a.Name,
          reference,
          packageId: p.PackageId,
          variable: p.PackageId === '' || p.PackageId.includes('#{'),
        });
      }
    }
  }
  return out;
}

function slotLabel(s: PackageSlot): string {
  return `Version of ${s.packageId || 'the package'} for ${s.actionName}${s.reference ? ` (${s.reference})` : ''}`;
}

export function CreateRelease() {
  const { project } = useProject();
  const projectId = project.Id;
  const navigate = useNavigate();
  const encodedProject = encodeURIComponent(projectId);
  const channels = useResource<Collection<ChannelResource>>(`/api/projects/${encodedProject}/channels?take=1000`);
  const process = useResource<ProcessResource>(
    `/api/deploymentprocesses/${encodeURIComponent(project.DeploymentProcessId)}`,
  );
  const last = useResource<Collection<ReleaseResource>>(`/api/projects/${encodedProject}/releases?take=1`);

  const [channelId, setChannelId] = useState('');
  const [version, setVersion] = useState('');
  const [versionEdited, setVersionEdited] = useState(false);
  const [notes, setNotes] = useState('');
  const [versions, setVersions] = useState<Record<string, string[]>>({});
  const [versionsError, setVersionsError] = useState<ApiError>();
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const channel = channels.data?.Items.find((c) => c.Id === channelId);
  const channelLast = useResource<Collection<ReleaseResource>>(
    channelId ? `/api/channels/${encodeURIComponent(channelId)}/releases?take=1` : undefined,
  );
  const slots = useMemo(() => slotsOf(process.data), [process.data]);

  // The default channel first.
  useEffect(() => {
    if (channelId === '' && channels.data) {
      const d = channels.data.Items.find((c) => c.IsDefault) ?? channels.data.Items[0];
      if (d) setChannelId(d.Id);
    }
  }, [channels.data, channelId]);

  // A donor package gives the release its version (the picked version of that package).
  const donor = project.VersioningStrategy?.DonorPackage;
  const donorKey = donor?.DeploymentAction ? `${donor.DeploymentAction}\u0000${donor.PackageReference ?? ''}` : undefined;
  const donorVersion = donorKey ? picked[donorKey] : undefined;

  // The proposed version, until the user types one.
  useEffect(() => {
    if (versionEdited) return;
    if (donorKey) {
      setVersion(donorVersion ?? '');
      return;
    }
    if (!last.data || !channel || !channelLast.data) return;
    setVersion(
      nextReleaseVersion(project.VersioningStrategy?.Template, {
        lastVersion: last.data.Items[0]?.Version,
        channelLastVersion: channelLast.data.Items[0]?.Version,
        channelName: channel.Name,
      }),
    );
  }, [versionEdited, donorKey, donorVersion, project, last.data, channel, channelLast.data]);

  // The feed's versions of each package.
  useEffect(() => {
    const ids = [...new Set(slots.filter((s) => !s.variable).map((s) => s.packageId))];
    if (ids.length === 0) return;
    const controller = new AbortController();
    Promise.all(
      ids.map((id) =>
        api
          .get<Collection<PackageVersionResource>>(
            `/api/feeds/feeds-builtin/packages/versions?packageId=${encodeURIComponent(id)}&take=1000`,
            { signal: controller.signal },
          )
          .then((c) => [id, sortVersionsDescending(c.Items.map((i) => i.Version))] as const),
      ),
    )
      .then((pairs) => setVersions(Object.fromEntries(pairs)))
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        setVersionsError(apiErrorOf(e));
      });
    return () => controller.abort();
  }, [slots]);

  // The versions of a slot the channel's rules allow.
  const allowedVersions = (s: PackageSlot): string[] => {
    const all = versions[s.packageId] ?? [];
    const rules = (channel?.Rules ?? []).filter((r) =>
      r.ActionPackages.some((ap) => ap.DeploymentAction === s.actionName && (ap.PackageReference ?? '') === s.reference),
    );
    return all.filter((v) => rules.every((r) => satisfiesRule(v, r.VersionRange, r.Tag)));
  };

  // Default each picker to its latest allowed version (again when the channel changes).
  useEffect(() => {
    setPicked((current) => {
      const next = { ...current };
      for (const s of slots) {
        if (s.variable) continue;
        const allowed = allowedVersions(s);
        if (!next[s.key] || !allowed.includes(next[s.key])) next[s.key] = latestVersion(allowed) ?? '';
      }
      return next;
    });
    // allowedVersions reads versions and channel
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slots, versions, channel]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const SelectedPackages: SelectedPackage[] = slots
      .filter((s) => (picked[s.key] ?? '') !== '')
      .map((s) => ({ ActionName: s.actionName, StepName: s.stepName, PackageReferenceName: s.reference, Version: picked[s.key] }));
    try {
      const release = await api.post<ReleaseResource>('/api/releases', {
        ProjectId: project.Id,
        ChannelId: channelId,
        Version: version.trim(),
        ReleaseNotes: notes === '' ? null : notes,
        SelectedPackages,
      });
      navigate(`/projects/${encodedProject}/releases/${encodeURIComponent(release.Version)}`);
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  const loadError = channels.error ?? process.error ?? last.error ?? versionsError;
  const ready = channels.data && process.data;

  return (
    <Page title="Create release">
      <div className="rel-page">
        <ErrorMessage error={loadError} />
        {!ready && !loadError && <p role="status">Loading…</p>}
        {ready && (
          <form className="rel-form" onSubmit={submit} aria-label="Create release">
            <label htmlFor="release-version">Version</label>
            <input
              id="release-version"
              value={version}
              required
              onChange={(e) => {
                setVersionEdited(true);
                setVersion(e.target.value);
              }}
            />
            {donorKey && (
              <p className="hint">The project takes release versions from the package of the step {donor?.DeploymentAction}.</p>
            )}
            <label htmlFor="release-channel">Channel</label>
            <select id="release-channel" value={channelId} onChange={(e) => setChannelId(e.target.value)}>
              {channels.data!.Items.map((c) => (
                <option key={c.Id} value={c.Id}>
                  {c.Name}
                  {c.IsDefault ? ' (default)' : ''}
                </option>
              ))}
            </select>

            <h2 id="release-packages">Packages</h2>
            {slots.length === 0 ? (
              <p className="hint">The deployment process has no package steps.</p>
            ) : (
              <div className="table-wrap">
                <table aria-labelledby="release-packages">
                  <thead>
                    <tr>
                      <th scope="col">Step</th>
                      <th scope="col">Package</th>
                      <th scope="col">Version</th>
                    </tr>
                  </thead>
                  <tbody>
                    {slots.map((s) => {
                      const allowed = s.variable ? [] : allowedVersions(s);
                      const id = `pkg-${s.key.replace(/[^A-Za-z0-9]/g, '-')}`;
                      return (
                        <tr key={s.key}>
                          <th scope="row">
                            {s.actionName}
                            {s.reference && <span className="muted"> ({s.reference})</span>}
                          </th>
                          <td>{s.packageId}</td>
                          <td>
                            <label htmlFor={id} className="visually-hidden">
                              {slotLabel(s)}
                            </label>
                            {s.variable ? (
                              <input
                                id={id}
                                value={picked[s.key] ?? ''}
                                onChange={(e) => setPicked({ ...picked, [s.key]: e.target.value })}
                              />
                            ) : allowed.length === 0 ? (
                              <>
                                <select id={id} disabled value="">
                                  <option value="">No version available</option>
                                </select>
                                <p className="hint">
                                  {versions[s.packageId] === undefined
                                    ? 'Loading versions…'
                                    : `No version of ${s.packageId} in the built-in feed${(versions[s.packageId] ?? []).length ? ' fits the channel’s rules' : ''}.`}
                                </p>
                              </>
                            ) : (
                              <select id={id} value={picked[s.key] ?? ''} onChange={(e) => setPicked({ ...picked, [s.key]: e.target.value })}>
                                {allowed.map((v, i) => (
                                  <option key={v} value={v}>
                                    {v}
                                    {i === 0 ? ' (latest)' : ''}
                                  </option>
                                ))}
                              </select>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}

            <label htmlFor="release-notes">Release notes</label>
            <textarea id="release-notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
            <ErrorMessage error={error} />
            <div className="rel-actions">
              <button type="submit" className="primary" disabled={busy || version.trim() === ''}>
                Create release
              </button>
            </div>
          </form>
        )}
      </div>
    </Page>
  );
}
