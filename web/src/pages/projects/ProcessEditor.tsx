// The process editor: a project's deployment process (GET/PUT /api/projects/{id}/deploymentprocesses)
// or, given `processUrl`, a runbook's (/api/runbookProcesses/{id}). Steps are listed in order and
// edited on a working copy: add a script, package or manual-intervention step, rename it, set its
// target roles, run condition and environments, its script / package / instructions, reorder it
// (Move up / Move down), delete it. Save PUTs the whole process with the Version it was read at, so
// a save over someone else's shows the API's conflict message and changes nothing.
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { api, ApiError, apiErrorOf } from '../../api/client';
import { ErrorMessage, Page } from '../../components/Page';
import { CodeEditor } from './CodeEditor';
import { useProject } from './context';
import {
  BUILT_IN_FEED,
  CONDITION_EXPRESSION,
  CONDITIONS,
  INSTRUCTIONS,
  KINDS,
  MANUAL,
  PACKAGE,
  RESPONSIBLE_TEAMS,
  SCRIPT,
  SCRIPT_BODY,
  SCRIPT_SYNTAX,
  SYNTAXES,
  TARGET_ROLES,
  kindLabel,
  move,
  newStep,
  primaryPackage,
  prop,
  renameStep,
  setActionProp,
  setCondition,
  setExpression,
  setPackage,
  setTargetRoles,
  updateAction,
  type StepKind,
} from './processModel';
import type { DeploymentStep, NamedResource, PackageResource, ProcessResource, ResourceCollection } from './types';
import './projects.css';

interface Row {
  key: string;
  step: DeploymentStep;
}

let nextKey = 0;
const rowsOf = (steps: DeploymentStep[]): Row[] => steps.map((step) => ({ key: `s${++nextKey}`, step }));

export function ProcessEditor({ processUrl }: { processUrl?: string }) {
  const { project } = useProject();
  const url = processUrl ?? `/api/projects/${encodeURIComponent(project.Id)}/deploymentprocesses`;
  const [saved, setSaved] = useState<ProcessResource>();
  const [rows, setRows] = useState<Row[]>([]);
  const [selected, setSelected] = useState<string>();
  const [loadError, setLoadError] = useState<ApiError>();
  const [saveError, setSaveError] = useState<ApiError>();
  const [saving, setSaving] = useState(false);
  const [justSaved, setJustSaved] = useState(false);
  const [environments, setEnvironments] = useState<NamedResource[]>([]);
  const [feeds, setFeeds] = useState<NamedResource[]>([{ Id: BUILT_IN_FEED, Name: 'Octopus Server (built-in)' }]);
  const [packageIds, setPackageIds] = useState<string[]>([]);
  const focusAfter = useRef<string | null>(null);
  const ids = useId();

  const load = useCallback(
    (signal?: AbortSignal) => {
      setLoadError(undefined);
      return api
        .get<ProcessResource>(url, { signal })
        .then((p) => {
          setSaved(p);
          const r = rowsOf(p.Steps ?? []);
          setRows(r);
          setSelected((s) => (s && r.some((x) => x.key === s) ? s : r[0]?.key));
          setSaveError(undefined);
        })
        .catch((e: unknown) => {
          if (e instanceof DOMException && e.name === 'AbortError') return;
          setLoadError(apiErrorOf(e));
        });
    },
    [url],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  // What the step editors offer: environments, feeds, the packages in the built-in feed. A list
  // that fails to load leaves its field free text; the process still loads and saves.
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const quiet = (e: unknown) => {
      if (!(e instanceof DOMException && e.name === 'AbortError')) console.warn(e);
    };
    api.get<NamedResource[]>('/api/environments/all', { signal }).then(setEnvironments, quiet);
    api
      .get<ResourceCollection<NamedResource>>('/api/feeds', { signal })
      .then((f) => f.Items.length && setFeeds(f.Items), quiet);
    api
      .get<ResourceCollection<PackageResource>>('/api/packages?latest=true&take=1000', { signal })
      .then((p) => setPackageIds([...new Set(p.Items.map((x) => x.PackageId))].sort()), quiet);
    return () => controller.abort();
  }, []);

  const steps = useMemo(() => rows.map((r) => r.step), [rows]);
  const dirty = saved !== undefined && JSON.stringify(steps) !== JSON.stringify(saved.Steps ?? []);

  // Leaving the page (reload, close) with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  // Following a link inside the portal with unsaved changes asks first too (BrowserRouter has no
  // navigation blocker): a capturing listener sees the click before the router does.
  useEffect(() => {
    if (!dirty) return;
    const guard = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const link = (e.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
      if (!link || link.target === '_blank' || link.origin !== window.location.origin) return;
      if (link.pathname === window.location.pathname) return;
      if (!window.confirm('The process has unsaved changes. Leave this page and lose them?')) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    document.addEventListener('click', guard, true);
    return () => document.removeEventListener('click', guard, true);
  }, [dirty]);

  // Focus where the last action left it (a moved step's button, a new step's name).
  useEffect(() => {
    if (focusAfter.current) {
      document.getElementById(focusAfter.current)?.focus();
      focusAfter.current = null;
    }
  });

  const change = (key: string, f: (s: DeploymentStep) => DeploymentStep) => {
    setJustSaved(false);
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, step: f(r.step) } : r)));
  };

  const add = (kind: StepKind) => {
    const row = { key: `s${++nextKey}`, step: newStep(kind, steps) };
    setJustSaved(false);
    setRows((rs) => [...rs, row]);
    setSelected(row.key);
    focusAfter.current = `${ids}-name-${row.key}`;
  };

  const moveRow = (index: number, delta: number) => {
    const target = index + delta;
    if (target < 0 || target >= rows.length) return;
    const key = rows[index].key;
    setJustSaved(false);
    setRows((rs) => move(rs, index, target));
    // Keep focus on the button pressed, or its twin once the step reached an end.
    const atEnd = target === 0 || target === rows.length - 1;
    const dir = delta < 0 ? 'up' : 'down';
    const other = delta < 0 ? 'down' : 'up';
    focusAfter.current = `${ids}-${atEnd ? other : dir}-${key}`;
  };

  const remove = (key: string) => {
    const index = rows.findIndex((r) => r.key === key);
    const rest = rows.filter((r) => r.key !== key);
    const next = rest[Math.min(index, rest.length - 1)];
    setJustSaved(false);
    setRows(rest);
    setSelected(next?.key);
    focusAfter.current = next ? `${ids}-select-${next.key}` : `${ids}-add`;
  };

  const save = async () => {
    if (!saved) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const result = await api.put<ProcessResource>(url, { ...saved, Steps: steps });
      setSaved(result);
      // The server's steps (ids assigned, names normalised) replace the working copy, same keys.
      setRows((rs) => (result.Steps ?? []).map((step, i) => ({ key: rs[i]?.key ?? `s${++nextKey}`, step })));
      setJustSaved(true);
    } catch (e) {
      setSaveError(apiErrorOf(e));
    } finally {
      setSaving(false);
    }
  };

  const discard = () => {
    if (!saved) return;
    setRows(rowsOf(saved.Steps ?? []));
    setSelected(undefined);
    setSaveError(undefined);
  };

  const current = rows.find((r) => r.key === selected) ?? rows[0];
  // Embedded (a runbook's page names the process with an h2), the editor's own headings are h3.
  const Heading = processUrl ? 'h3' : 'h2';
  const conflict = saveError?.status === 409;

  const body = (
    <>
      <ErrorMessage error={loadError} />
      {!saved && !loadError && <p role="status">Loading…</p>}
      {saved && (
        <div className="process-editor">
          <div className="process-toolbar">
            <button type="button" className="primary" onClick={save} disabled={saving || !dirty}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            <button type="button" onClick={discard} disabled={saving || !dirty}>
              Discard changes
            </button>
            <p className="save-state" role="status">
              {dirty ? (
                <span className="unsaved">Unsaved changes</span>
              ) : justSaved ? (
                <span className="saved">Saved (version {saved.Version}).</span>
              ) : null}
            </p>
          </div>
          <ErrorMessage error={saveError} />
          {conflict && (
            <p>
              <button type="button" onClick={() => void load()}>
                Reload the process
              </button>{' '}
              (your unsaved changes are dropped)
            </p>
          )}
          <div className="process-columns">
            <div className="process-steps">
              <Heading id={`${ids}-steps`}>Steps</Heading>
              {rows.length === 0 && <p>No steps yet. Add one below.</p>}
              <ol className="step-list" aria-labelledby={`${ids}-steps`}>
                {rows.map((r, i) => {
                  const action = r.step.Actions?.[0];
                  const isCurrent = current?.key === r.key;
                  return (
                    <li key={r.key} className={isCurrent ? 'step current' : 'step'} data-step={r.step.Name}>
                      <span className="step-number" aria-hidden="true">
                        {i + 1}.
                      </span>
                      <button
                        type="button"
                        id={`${ids}-select-${r.key}`}
                        className="step-select"
                        aria-current={isCurrent ? 'step' : undefined}
                        onClick={() => setSelected(r.key)}
                      >
                        {r.step.Name || '(unnamed step)'}
                      </button>
                      <span className="step-kind">
                        {kindLabel(action?.ActionType)}
                        {action?.IsDisabled && ', disabled'}
                      </span>
                      <span className="step-moves">
                        <button
                          type="button"
                          id={`${ids}-up-${r.key}`}
                          onClick={() => moveRow(i, -1)}
                          disabled={i === 0}
                        >
                          Move up<span className="visually-hidden"> {r.step.Name}</span>
                        </button>
                        <button
                          type="button"
                          id={`${ids}-down-${r.key}`}
                          onClick={() => moveRow(i, 1)}
                          disabled={i === rows.length - 1}
                        >
                          Move down<span className="visually-hidden"> {r.step.Name}</span>
                        </button>
                      </span>
                    </li>
                  );
                })}
              </ol>
              <div className="add-step" role="group" aria-label="Add a step">
                {KINDS.map((k, i) => (
                  <button key={k.kind} type="button" id={i === 0 ? `${ids}-add` : undefined} onClick={() => add(k.kind)}>
                    {k.kind === 'script'
                      ? 'Add script step'
                      : k.kind === 'package'
                        ? 'Add package step'
                        : 'Add manual intervention step'}
                  </button>
                ))}
              </div>
            </div>
            {current && (
              <StepEditor
                key={current.key}
                idBase={`${ids}-${current.key}`}
                heading={Heading}
                nameId={`${ids}-name-${current.key}`}
                step={current.step}
                onChange={(f) => change(current.key, f)}
                onDelete={() => remove(current.key)}
                environments={environments}
                feeds={feeds}
                packageIds={packageIds}
              />
            )}
          </div>
        </div>
      )}
    </>
  );

  if (processUrl) {
    return (
      <section className="project-process" aria-labelledby={`${ids}-title`}>
        <h2 id={`${ids}-title`}>Process</h2>
        {body}
      </section>
    );
  }
  return <Page title="Process">{body}</Page>;
}

interface StepEditorProps {
  idBase: string;
  heading: 'h2' | 'h3';
  nameId: string;
  step: DeploymentStep;
  onChange: (f: (s: DeploymentStep) => DeploymentStep) => void;
  onDelete: () => void;
  environments: NamedResource[];
  feeds: NamedResource[];
  packageIds: string[];
}

function StepEditor({ idBase, heading: Heading, nameId, step, onChange, onDelete, environments, feeds, packageIds }: StepEditorProps) {
  const action = step.Actions?.[0];
  const type = action?.ActionType;
  // The roles field keeps what is typed (spaces, a trailing comma); the step gets the clean list.
  const [rolesText, setRolesText] = useState(() => prop(step.Properties, TARGET_ROLES).split(',').join(', '));
  const id = (s: string) => `${idBase}-${s}`;
  const pkg = action ? primaryPackage(action) : undefined;
  const scoped = new Set(action?.Environments ?? []);

  return (
    <div className="panel step-editor" role="region" aria-labelledby={id('title')}>
      <div className="step-editor-head">
        <Heading id={id('title')}>
          {kindLabel(type)} step: {step.Name || '(unnamed)'}
        </Heading>
        <button type="button" className="danger" onClick={onDelete}>
          Delete step
        </button>
      </div>
      {step.Actions.length > 1 && (
        <p className="hint">This step has {step.Actions.length} actions; the editor edits the first one.</p>
      )}
      <div className="field">
        <label htmlFor={nameId}>Step name</label>
        <input id={nameId} value={step.Name} onChange={(e) => onChange((s) => renameStep(s, e.target.value))} />
      </div>

      {type === SCRIPT && (
        <>
          <div className="field">
            <label htmlFor={id('syntax')}>Syntax</label>
            <select
              id={id('syntax')}
              value={prop(action?.Properties, SCRIPT_SYNTAX) || 'Bash'}
              onChange={(e) => onChange((s) => setActionProp(s, SCRIPT_SYNTAX, e.target.value))}
            >
              {[...new Set([...SYNTAXES, prop(action?.Properties, SCRIPT_SYNTAX) || 'Bash'])].map((x) => (
                <option key={x} value={x}>
                  {x}
                  {SYNTAXES.includes(x) ? '' : ' (Cuttle cannot run it)'}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <span className="label" id={id('script-label')}>
              Script
            </span>
            <CodeEditor
              id={id('script')}
              label="Script"
              language={prop(action?.Properties, SCRIPT_SYNTAX) || 'Bash'}
              value={prop(action?.Properties, SCRIPT_BODY)}
              onChange={(v) => onChange((s) => updateAction(s, (a) => ({ ...a, Properties: { ...a.Properties, [SCRIPT_BODY]: v } })))}
            />
          </div>
        </>
      )}

      {type === PACKAGE && (
        <>
          <div className="field">
            <label htmlFor={id('feed')}>Package feed</label>
            <select
              id={id('feed')}
              value={pkg?.FeedId ?? BUILT_IN_FEED}
              onChange={(e) => onChange((s) => setPackage(s, pkg?.PackageId ?? '', e.target.value))}
            >
              {feeds.map((f) => (
                <option key={f.Id} value={f.Id}>
                  {f.Name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={id('package')}>Package ID</label>
            <input
              id={id('package')}
              list={id('packages')}
              value={pkg?.PackageId ?? ''}
              autoComplete="off"
              aria-describedby={id('package-hint')}
              onChange={(e) => onChange((s) => setPackage(s, e.target.value, pkg?.FeedId ?? BUILT_IN_FEED))}
            />
            <datalist id={id('packages')}>
              {packageIds.map((p) => (
                <option key={p} value={p} />
              ))}
            </datalist>
            <p className="hint" id={id('package-hint')}>
              {packageIds.length
                ? `${packageIds.length} package${packageIds.length === 1 ? '' : 's'} in the built-in feed; the version is chosen when a release is created.`
                : 'No packages in the built-in feed yet (upload one under Library); the version is chosen when a release is created.'}
            </p>
          </div>
        </>
      )}

      {type === MANUAL && (
        <>
          <div className="field">
            <label htmlFor={id('instructions')}>Instructions</label>
            <textarea
              id={id('instructions')}
              rows={4}
              value={prop(action?.Properties, INSTRUCTIONS)}
              onChange={(e) =>
                onChange((s) =>
                  updateAction(s, (a) => ({ ...a, Properties: { ...a.Properties, [INSTRUCTIONS]: e.target.value } })),
                )
              }
            />
          </div>
          <div className="field">
            <label htmlFor={id('teams')}>Responsible teams</label>
            <input
              id={id('teams')}
              value={prop(action?.Properties, RESPONSIBLE_TEAMS)}
              aria-describedby={id('teams-hint')}
              onChange={(e) => onChange((s) => setActionProp(s, RESPONSIBLE_TEAMS, e.target.value.replace(/\s+/g, '')))}
            />
            <p className="hint" id={id('teams-hint')}>
              Team ids, comma-separated. Empty: anyone who may deploy can answer. Naming teams makes the step required.
            </p>
          </div>
        </>
      )}

      {type !== SCRIPT && type !== PACKAGE && type !== MANUAL && (
        <p className="hint">
          {type} steps are kept as they are; Cuttle's engine runs script, package and manual intervention steps.
        </p>
      )}

      {type !== MANUAL && (
        <div className="field">
          <label htmlFor={id('roles')}>Target roles</label>
          <input
            id={id('roles')}
            value={rolesText}
            aria-describedby={id('roles-hint')}
            onChange={(e) => {
              setRolesText(e.target.value);
              const text = e.target.value;
              onChange((s) => setTargetRoles(s, text));
            }}
          />
          <p className="hint" id={id('roles-hint')}>
            Comma-separated. The step runs on each deployment target with one of these roles
            {type === SCRIPT ? '; empty: it runs once on the Cuttle server.' : '.'}
          </p>
        </div>
      )}

      <fieldset className="field conditions">
        <legend>Run condition</legend>
        {CONDITIONS.map((c) => (
          <div key={c.value} className="choice">
            <input
              type="radio"
              id={id(`condition-${c.value}`)}
              name={id('condition')}
              value={c.value}
              checked={(step.Condition ?? 'Success') === c.value}
              onChange={() => onChange((s) => setCondition(s, c.value))}
            />
            <label htmlFor={id(`condition-${c.value}`)}>{c.label}</label>
          </div>
        ))}
        {step.Condition === 'Variable' && (
          <div className="field expression">
            <label htmlFor={id('expression')}>Condition expression</label>
            <input
              id={id('expression')}
              className="mono"
              placeholder="#{if Octopus.Environment.Name == &quot;Production&quot;}true#{/if}"
              value={prop(step.Properties, CONDITION_EXPRESSION)}
              onChange={(e) => onChange((s) => setExpression(s, e.target.value))}
            />
          </div>
        )}
      </fieldset>

      <div className="field choice">
        <input
          type="checkbox"
          id={id('parallel')}
          checked={step.StartTrigger === 'StartWithPrevious'}
          onChange={(e) =>
            onChange((s) => ({ ...s, StartTrigger: e.target.checked ? 'StartWithPrevious' : 'StartAfterPrevious' }))
          }
        />
        <label htmlFor={id('parallel')}>Run in parallel with the previous step</label>
      </div>

      {environments.length > 0 && (
        <fieldset className="field environments">
          <legend>Environments</legend>
          <p className="hint">The step runs only in the checked environments; none checked: in every environment.</p>
          {environments.map((env) => (
            <div key={env.Id} className="choice">
              <input
                type="checkbox"
                id={id(`env-${env.Id}`)}
                checked={scoped.has(env.Id)}
                onChange={(e) =>
                  onChange((s) =>
                    updateAction(s, (a) => {
                      const set = new Set(a.Environments ?? []);
                      if (e.target.checked) set.add(env.Id);
                      else set.delete(env.Id);
                      return { ...a, Environments: environments.map((x) => x.Id).filter((x) => set.has(x)) };
                    }),
                  )
                }
              />
              <label htmlFor={id(`env-${env.Id}`)}>{env.Name}</label>
            </div>
          ))}
        </fieldset>
      )}

      {action && (
        <div className="field choice">
          <input
            type="checkbox"
            id={id('disabled')}
            checked={!!action.IsDisabled}
            onChange={(e) => onChange((s) => updateAction(s, (a) => ({ ...a, IsDisabled: e.target.checked })))}
          />
          <label htmlFor={id('disabled')}>Disable this step</label>
        </div>
      )}
    </div>
  );
}
