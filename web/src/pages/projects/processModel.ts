// The deployment process as the editor sees it: the three kinds of step the engine runs
// (src/model/process.cc accepts Octopus.Script, Octopus.TentaclePackage and Octopus.Manual) and
// the property keys each kind reads (reference-octopus-deployment-model.md §2.7). Pure functions
// over the API's Steps[]; what the editor does not know travels through untouched.
import type { DeploymentAction, DeploymentStep, PackageReference, Properties, StepCondition } from './types';

export const SCRIPT = 'Octopus.Script';
export const PACKAGE = 'Octopus.TentaclePackage';
export const MANUAL = 'Octopus.Manual';
export const BUILT_IN_FEED = 'feeds-builtin';

export const TARGET_ROLES = 'Octopus.Action.TargetRoles';
export const CONDITION_EXPRESSION = 'Octopus.Step.ConditionVariableExpression';
export const SCRIPT_BODY = 'Octopus.Action.Script.ScriptBody';
export const SCRIPT_SYNTAX = 'Octopus.Action.Script.Syntax';
export const SCRIPT_SOURCE = 'Octopus.Action.Script.ScriptSource';
export const RUN_ON_SERVER = 'Octopus.Action.RunOnServer';
export const PACKAGE_ID = 'Octopus.Action.Package.PackageId';
export const PACKAGE_FEED = 'Octopus.Action.Package.FeedId';
export const DOWNLOAD_ON_TENTACLE = 'Octopus.Action.Package.DownloadOnTentacle';
export const INSTRUCTIONS = 'Octopus.Action.Manual.Instructions';
export const RESPONSIBLE_TEAMS = 'Octopus.Action.Manual.ResponsibleTeamIds';

// The syntaxes the built-in worker and the agents run (engine/step_runner.h: Bash and Python).
export const SYNTAXES = ['Bash', 'Python'];

export type StepKind = 'script' | 'package' | 'manual';

export const KINDS: { kind: StepKind; type: string; label: string; defaultName: string }[] = [
  { kind: 'script', type: SCRIPT, label: 'Script', defaultName: 'Run a script' },
  { kind: 'package', type: PACKAGE, label: 'Deploy a package', defaultName: 'Deploy a package' },
  { kind: 'manual', type: MANUAL, label: 'Manual intervention', defaultName: 'Manual intervention' },
];

export const CONDITIONS: { value: StepCondition; label: string }[] = [
  { value: 'Success', label: 'Success: only when the previous steps succeeded' },
  { value: 'Failure', label: 'Failure: only when a previous step failed' },
  { value: 'Always', label: 'Always run' },
  { value: 'Variable', label: 'Variable: only when an expression is true' },
];

export function kindLabel(actionType: string | undefined): string {
  return KINDS.find((k) => k.type === actionType)?.label ?? actionType ?? 'Unknown';
}

export function prop(props: Properties | undefined, key: string): string {
  const v = props?.[key];
  return typeof v === 'string' ? v : '';
}

// Sets `key`, or removes it when `value` is empty.
export function withProp(props: Properties, key: string, value: string): Properties {
  const next = { ...props };
  if (value === '') delete next[key];
  else next[key] = value;
  return next;
}

export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

// A name no other step (or action) of `steps` uses: "Run a script", "Run a script 2", ...
export function uniqueName(base: string, steps: DeploymentStep[]): string {
  const taken = new Set<string>();
  for (const s of steps) {
    taken.add(s.Name.toLowerCase());
    for (const a of s.Actions ?? []) taken.add((a.Name ?? '').toLowerCase());
  }
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 2; ; ++n) {
    const name = `${base} ${n}`;
    if (!taken.has(name.toLowerCase())) return name;
  }
}

export function primaryPackage(action: DeploymentAction): PackageReference | undefined {
  return action.Packages?.find((p) => !p.Name) ?? action.Packages?.[0];
}

export function newStep(kind: StepKind, steps: DeploymentStep[]): DeploymentStep {
  const meta = KINDS.find((k) => k.kind === kind)!;
  const name = uniqueName(meta.defaultName, steps);
  let properties: Properties = {};
  const packages: PackageReference[] = [];
  if (kind === 'script') {
    properties = {
      [RUN_ON_SERVER]: 'true',
      [SCRIPT_SOURCE]: 'Inline',
      [SCRIPT_SYNTAX]: 'Bash',
      [SCRIPT_BODY]: '',
    };
  } else if (kind === 'package') {
    properties = { [PACKAGE_FEED]: BUILT_IN_FEED, [DOWNLOAD_ON_TENTACLE]: 'False' };
    packages.push({
      Name: '',
      PackageId: '',
      FeedId: BUILT_IN_FEED,
      AcquisitionLocation: 'Server',
      Properties: { SelectionMode: 'immediate' },
    });
  } else {
    properties = { [INSTRUCTIONS]: '' };
  }
  const action: DeploymentAction = {
    Name: name,
    ActionType: meta.type,
    IsDisabled: false,
    IsRequired: false,
    Condition: 'Success',
    Environments: [],
    ExcludedEnvironments: [],
    Channels: [],
    TenantTags: [],
    Packages: packages,
    Properties: properties,
  };
  return {
    Name: name,
    Condition: 'Success',
    StartTrigger: 'StartAfterPrevious',
    PackageRequirement: 'LetOctopusDecide',
    Properties: {},
    Actions: [action],
  };
}

// Renames a step; its one action follows when it carried the step's name (as Octopus names them).
export function renameStep(step: DeploymentStep, name: string): DeploymentStep {
  const actions = step.Actions.map((a, i) =>
    i === 0 && step.Actions.length === 1 && (a.Name === step.Name || !a.Name) ? { ...a, Name: name } : a,
  );
  return { ...step, Name: name, Actions: actions };
}

export function setTargetRoles(step: DeploymentStep, text: string): DeploymentStep {
  const roles = splitList(text).join(',');
  const props = withProp(step.Properties ?? {}, TARGET_ROLES, roles);
  // A script with no roles runs on the server; with roles, on each target in them.
  const actions = step.Actions.map((a) =>
    a.ActionType === SCRIPT ? { ...a, Properties: { ...a.Properties, [RUN_ON_SERVER]: roles ? 'false' : 'true' } } : a,
  );
  return { ...step, Properties: props, Actions: actions };
}

export function setCondition(step: DeploymentStep, condition: StepCondition): DeploymentStep {
  return { ...step, Condition: condition };
}

export function setExpression(step: DeploymentStep, expression: string): DeploymentStep {
  return { ...step, Properties: withProp(step.Properties ?? {}, CONDITION_EXPRESSION, expression) };
}

export function updateAction(step: DeploymentStep, change: (a: DeploymentAction) => DeploymentAction): DeploymentStep {
  return { ...step, Actions: step.Actions.map((a, i) => (i === 0 ? change(a) : a)) };
}

export function setActionProp(step: DeploymentStep, key: string, value: string): DeploymentStep {
  return updateAction(step, (a) => ({ ...a, Properties: withProp(a.Properties ?? {}, key, value) }));
}

// The package step's primary package and the properties that name it.
export function setPackage(step: DeploymentStep, packageId: string, feedId: string): DeploymentStep {
  return updateAction(step, (a) => {
    const packages = [...(a.Packages ?? [])];
    const index = packages.findIndex((p) => !p.Name);
    const current = index >= 0 ? packages[index] : undefined;
    const next: PackageReference = {
      ...(current ?? { Name: '', AcquisitionLocation: 'Server', Properties: { SelectionMode: 'immediate' } }),
      PackageId: packageId,
      FeedId: feedId,
    };
    if (index >= 0) packages[index] = next;
    else packages.unshift(next);
    let props = withProp(a.Properties ?? {}, PACKAGE_ID, packageId);
    props = withProp(props, PACKAGE_FEED, feedId);
    return { ...a, Packages: packages, Properties: props };
  });
}

export function move<T>(list: T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item);
  return next;
}
