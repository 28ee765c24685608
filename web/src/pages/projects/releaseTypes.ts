// The Octopus resource shapes the release-area pages (variables, channels, runbooks, releases)
// read and write (PascalCase, as the API sends them).

export interface Named {
  Id: string;
  Name: string;
}

export interface Collection<T> {
  Items: T[];
  TotalResults?: number;
}

// One project shape for all project pages (ProjectLayout hands it over through useProject()).
export type { ProjectResource } from './types';

export type ScopeKey = 'Environment' | 'Role' | 'Machine' | 'Channel' | 'Action' | 'ProcessOwner' | 'TenantTag';
export type VariableScope = Partial<Record<ScopeKey, string[]>>;

export interface VariableResource {
  Id?: string;
  Name: string;
  // Null for a sensitive value: the API never sends it back (write-only).
  Value: string | null;
  Type: string;
  IsSensitive: boolean;
  Scope: VariableScope;
  Description?: string | null;
  [key: string]: unknown;
}

export interface ScopeValues {
  Environments: Named[];
  Machines: Named[];
  Roles: Named[];
  Channels: Named[];
  Actions: Named[];
}

export interface VariableSetResource {
  Id: string;
  OwnerId: string;
  Version: number;
  Variables: VariableResource[];
  ScopeValues: ScopeValues;
}

export interface ActionPackage {
  DeploymentAction: string;
  PackageReference: string | null;
}

export interface ChannelRule {
  Id?: string;
  VersionRange: string;
  Tag: string;
  ActionPackages: ActionPackage[];
}

export interface ChannelResource {
  Id: string;
  Name: string;
  Description: string;
  ProjectId: string;
  LifecycleId: string | null;
  IsDefault: boolean;
  Rules: ChannelRule[];
  TenantTags?: string[];
}

export interface LifecyclePhase {
  Name: string;
}

export interface LifecycleResource extends Named {
  Phases?: LifecyclePhase[];
}

export interface PackageReference {
  Id?: string;
  Name: string | null;
  PackageId: string;
  FeedId: string;
}

export interface ProcessAction {
  Id: string;
  Name: string;
  ActionType: string;
  IsDisabled?: boolean;
  Packages?: PackageReference[];
}

export interface ProcessStep {
  Id: string;
  Name: string;
  Actions: ProcessAction[];
}

export interface ProcessResource {
  Id: string;
  Version?: number;
  Steps: ProcessStep[];
}

export interface PackageVersionResource {
  PackageId: string;
  Version: string;
  Published?: string;
}

export interface SelectedPackage {
  ActionName: string;
  StepName?: string;
  PackageReferenceName?: string | null;
  Version: string;
}

export interface ReleaseResource {
  Id: string;
  ProjectId: string;
  ChannelId: string;
  Version: string;
  Assembled: string;
  ReleaseNotes: string | null;
  SelectedPackages: SelectedPackage[];
  ProjectDeploymentProcessSnapshotId?: string;
  LifecycleId?: string;
}

export interface DeploymentResource {
  Id: string;
  ReleaseId: string;
  EnvironmentId: string;
  TaskId: string;
  Created: string;
  Name?: string;
}

export interface DashboardItemResource {
  DeploymentId: string;
  EnvironmentId: string;
  TaskId: string;
  State: string;
  ReleaseVersion: string;
  CompletedTime?: string | null;
}

export interface ProgressionPhase {
  Id: string;
  Name: string;
  Progress: 'Complete' | 'Current' | 'Pending' | string;
  EnvironmentIds: string[];
  Deployments: DashboardItemResource[];
  IsOptionalPhase?: boolean;
}

export interface ProgressionResource {
  Phases: ProgressionPhase[];
  NextDeployments: string[];
  LifecycleId: string;
}

export interface DeploymentTemplateResource {
  PromoteTo: Named[];
  IsDeploymentProcessModified?: boolean;
}

export interface RunbookResource {
  Id: string;
  ProjectId: string;
  Name: string;
  Description: string;
  RunbookProcessId: string;
  PublishedRunbookSnapshotId: string | null;
  EnvironmentScope: 'All' | 'Specified' | 'FromProjectLifecycles' | string;
  Environments: string[];
}

export interface RunbookSnapshotResource {
  Id: string;
  Name: string;
  RunbookId: string;
  Notes?: string | null;
}

export interface RunbookRunAnswer {
  RunbookRunServerTasks: { RunbookRunId: string; ServerTaskId: string }[];
}
