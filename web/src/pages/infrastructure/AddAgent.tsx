// Add an agent: pick the environments and roles, and the page writes the exact
// `cuttle-agent register` command for this server — its address as the browser sees it, i.e. the
// load balancer's, the one address every agent polls. Then it lists the agents that registered
// while the page was open, so the new one shows up here.
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { Page, ErrorMessage } from '../../components/Page';
import { usePoll } from '../../api/poll';
import { healthLabel, LastContact, splitRoles, useNow } from './common';
import { API_KEY_PLACEHOLDER, registerCommand, shellQuote } from './command';
import type { EnvironmentResource, MachineResource } from './types';
import './infrastructure.css';

const POLL_MS = 2000;
const RECENT_MS = 15 * 60 * 1000;
const DEFAULT_HOME = '/var/lib/cuttle-agent';

export function AddAgent() {
  const envs = usePoll<EnvironmentResource[]>('/api/environments/all', 10000);
  const agents = usePoll<MachineResource[]>('/api/machines/all?commStyles=TentacleActive', POLL_MS);
  const now = useNow();
  const [envIds, setEnvIds] = useState<string[]>([]);
  const [roles, setRoles] = useState('');
  const [name, setName] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [home, setHome] = useState(DEFAULT_HOME);
  const [copied, setCopied] = useState<string>();
  const commandRef = useRef<HTMLElement>(null);

  // The agents there when the page opened: any other one registered since.
  const known = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (agents.data && known.current === null) known.current = new Set(agents.data.map((m) => m.Id));
  }, [agents.data]);

  const envList = [...(envs.data ?? [])].sort((a, b) => a.SortOrder - b.SortOrder);
  const envName = new Map(envList.map((e) => [e.Id, e.Name]));
  const chosenEnvs = envList.filter((e) => envIds.includes(e.Id)).map((e) => e.Name);
  const roleList = splitRoles(roles);
  const complete = chosenEnvs.length > 0 && roleList.length > 0 && home.trim() !== '';
  const command = registerCommand({
    server: window.location.origin,
    apiKey: apiKey.trim(),
    name: name.trim(),
    environments: chosenEnvs,
    roles: roleList,
    home: home.trim() || DEFAULT_HOME,
  });

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied('Copied the command to the clipboard.');
    } catch {
      // No clipboard permission (e.g. not a secure context): select it for Ctrl+C instead.
      const sel = window.getSelection();
      if (sel && commandRef.current) {
        const range = document.createRange();
        range.selectNodeContents(commandRef.current);
        sel.removeAllRanges();
        sel.addRange(range);
      }
      setCopied('The clipboard is not available here: the command is selected, press Ctrl+C to copy it.');
    }
  };

  const recent = [...(agents.data ?? [])]
    .filter((m) => {
      const isNew = known.current !== null && !known.current.has(m.Id);
      const t = m.LastContact ? Date.parse(m.LastContact) : NaN;
      return isNew || (!Number.isNaN(t) && now - t < RECENT_MS);
    })
    .sort((a, b) => (b.LastContact ?? '').localeCompare(a.LastContact ?? ''));

  return (
    <Page title="Add an agent">
      <p>
        <Link to="/infrastructure">Infrastructure</Link> › <Link to="/infrastructure/machines">Deployment targets</Link> ›
        Add an agent
      </p>
      <p>
        <code>cuttle-agent</code> makes a machine a deployment target. It polls this server over HTTP(S), so the
        machine needs no inbound port. Install the binary on the machine, then run the command below there once.
      </p>
      <form className="infra-form" onSubmit={(e) => e.preventDefault()} aria-labelledby="agent-options-title">
        <h2 id="agent-options-title">The agent's environments and roles</h2>
        <ErrorMessage error={envs.error} />
        <fieldset>
          <legend>Environments</legend>
          {envs.data && envList.length === 0 && (
            <p className="hint">
              No environments yet: <Link to="/infrastructure/environments">create one</Link> first.
            </p>
          )}
          {envList.map((env) => (
            <label key={env.Id}>
              <input
                type="checkbox"
                checked={envIds.includes(env.Id)}
                onChange={(e) =>
                  setEnvIds((ids) => (e.target.checked ? [...ids, env.Id] : ids.filter((x) => x !== env.Id)))
                }
              />
              {env.Name}
            </label>
          ))}
        </fieldset>
        <label htmlFor="agent-roles">Roles</label>
        <input
          id="agent-roles"
          value={roles}
          onChange={(e) => setRoles(e.target.value)}
          aria-describedby="agent-roles-hint"
          autoComplete="off"
        />
        <p className="hint" id="agent-roles-hint">
          Separate roles with commas, e.g. web, api. Steps run on the targets in their roles.
        </p>
        <label htmlFor="agent-name">Machine name</label>
        <input
          id="agent-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="the machine's host name"
          aria-describedby="agent-name-hint"
          autoComplete="off"
        />
        <p className="hint" id="agent-name-hint">
          Left empty, the command uses the machine's host name.
        </p>
        <label htmlFor="agent-api-key">API key</label>
        <input
          id="agent-api-key"
          value={apiKey}
          onChange={(e) => setApiKey(e.target.value)}
          placeholder={API_KEY_PLACEHOLDER}
          aria-describedby="agent-api-key-hint"
          autoComplete="off"
          spellCheck={false}
        />
        <p className="hint" id="agent-api-key-hint">
          Registering needs an API key of a user allowed to create deployment targets (machine-create rights); only this
          step uses it — the agent then signs its requests with its own key. Make one under{' '}
          <Link to="/configuration/users">Configuration → Users</Link> and paste it here to put it in the command; it is
          not sent anywhere by this page.
        </p>
        <label htmlFor="agent-home">Agent folder</label>
        <input
          id="agent-home"
          value={home}
          onChange={(e) => setHome(e.target.value)}
          aria-describedby="agent-home-hint"
          autoComplete="off"
          spellCheck={false}
        />
        <p className="hint" id="agent-home-hint">
          Where the agent keeps its key and journal (<code>--home</code>).
        </p>
      </form>

      <h2 id="register-command-title">Registration command</h2>
      {!complete && (
        <p className="hint" role="status">
          Choose at least one environment and one role to complete the command.
        </p>
      )}
      <div className="command">
        <pre>
          <code ref={commandRef} aria-labelledby="register-command-title" data-complete={complete}>
            {command}
          </code>
        </pre>
        <div className="buttons">
          <button type="button" className="primary" onClick={copy}>
            Copy command
          </button>
          <span role="status">{copied}</span>
        </div>
      </div>
      <p>
        Then start it: <code>cuttle-agent run --home {shellQuote(home.trim() || DEFAULT_HOME)}</code> (or as a service
        with <code>deploy/cuttle-agent.service</code>). Registering again from the same folder is the same machine.
      </p>

      <h2 id="recent-agents-title">Recently registered agents</h2>
      <ErrorMessage error={agents.error} />
      {agents.data && recent.length === 0 && (
        <p role="status">No agent has registered or been in contact in the last 15 minutes. Waiting for yours…</p>
      )}
      {recent.length > 0 && (
        <div className="table-wrap">
          <table className="list" aria-labelledby="recent-agents-title">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Environments</th>
                <th scope="col">Roles</th>
                <th scope="col">Health</th>
                <th scope="col">Last contact</th>
              </tr>
            </thead>
            <tbody>
              {recent.map((m) => {
                const isNew = known.current !== null && !known.current.has(m.Id);
                return (
                  <tr key={m.Id} className={isNew ? 'new-row' : undefined} data-machine={m.Name}>
                    <th scope="row">
                      <Link to={`/infrastructure/machines/${encodeURIComponent(m.Id)}`}>{m.Name}</Link>
                      {isNew && <span className="tag">new</span>}
                    </th>
                    <td className="wrap">{m.EnvironmentIds.map((id) => envName.get(id) ?? id).join(', ')}</td>
                    <td className="wrap">{m.Roles.join(', ')}</td>
                    <td className={`health-${m.HealthStatus.toLowerCase()}`}>{healthLabel(m.HealthStatus)}</td>
                    <td>
                      <LastContact iso={m.LastContact} now={now} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
