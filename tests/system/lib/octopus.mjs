// Octopus-shaped requests and documents the system tests share: a REST call with the admin key,
// and deployment-process steps and actions in the shape the api-client sends them.
import { createRequire } from 'node:module';
import { ADMIN_KEY } from './cluster.mjs';

const require = createRequire(import.meta.url);
const {
  RunCondition, StartTrigger, PackageRequirement, RunConditionForAction,
} = require('@octopusdeploy/api-client');

// One request; the answer's status, text and JSON (null if it is not JSON).
export async function apiCall(baseUrl, method, path, body) {
  const r = await fetch(baseUrl + path, {
    method, headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

export const action = (name, type, properties, extra = {}) => ({
  Id: '', Name: name, ActionType: type, Notes: null, IsDisabled: false, IsRequired: false,
  CanBeUsedForProjectVersioning: true, WorkerPoolId: null, WorkerPoolVariable: null,
  Container: { Image: null, FeedId: null }, Environments: [], ExcludedEnvironments: [], Channels: [],
  TenantTags: [], Condition: RunConditionForAction.Success, Packages: [], Properties: properties, ...extra,
});

// A step of one action, on the targets in `roles` ('' for a step on the server).
export const step = (name, roles, act) => ({
  Id: '', Name: name, Properties: { 'Octopus.Action.TargetRoles': roles },
  Condition: RunCondition.Success, StartTrigger: StartTrigger.StartAfterPrevious,
  PackageRequirement: PackageRequirement.LetOctopusDecide, Actions: [act],
});

// An inline script's properties.
export const script = (syntax, body, onServer) => ({
  ...(onServer ? { 'Octopus.Action.RunOnServer': 'true' } : {}),
  'Octopus.Action.Script.ScriptSource': 'Inline', 'Octopus.Action.Script.Syntax': syntax,
  'Octopus.Action.Script.ScriptBody': body,
});

// A script step on the targets in `roles`.
export const scriptStep = (name, body, { syntax = 'Bash', roles = 'web', extra = {} } = {}) =>
  step(name, roles, action(name, 'Octopus.Script', { ...script(syntax, body), ...extra }));
