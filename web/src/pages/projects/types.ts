// The Octopus resource shapes the projects pages read and write (PascalCase, as the API sends
// them). Only the fields the portal uses are typed; the rest travels through untouched.

export interface ProjectResource {
  Id: string;
  SpaceId?: string;
  Name: string;
  Slug?: string;
  Description?: string;
  ProjectGroupId: string;
  LifecycleId: string;
  // The server always sends both (a project is created with its process and variable set).
  DeploymentProcessId: string;
  VariableSetId: string;
  IsDisabled?: boolean;
  VersioningStrategy?: {
    Template?: string;
    // The release takes this package's version (its action and package reference).
    DonorPackage?: { DeploymentAction?: string; PackageReference?: string | null } | null;
    DonorPackageStepId?: string | null;
  };
  [key: string]: unknown;
}

export interface ResourceCollection<T> {
  Items: T[];
  TotalResults?: number;
  ItemsPerPage?: number;
}

export interface NamedResource {
  Id: string;
  Name: string;
  Description?: string;
}

export interface ReleaseResource {
  Id: string;
  Version: string;
  ProjectId: string;
  ChannelId: string;
  Assembled: string;
  ReleaseNotes?: string | null;
}

export interface DeploymentResource {
  Id: string;
  ProjectId: string;
  EnvironmentId: string;
  ReleaseId: string;
  TaskId: string;
  Created: string;
}

export interface TaskResource {
  Id: string;
  State: string;
  HasWarningsOrErrors?: boolean;
  HasPendingInterruptions?: boolean;
  CompletedTime?: string | null;
}

// A package in the built-in feed (GET /api/packages).
export interface PackageResource {
  Id: string;
  PackageId: string;
  Version: string;
}

// Property values are strings (the API spells booleans and numbers as strings).
export type Properties = Record<string, string | null>;

export interface PackageReference {
  Id?: string;
  Name: string;
  PackageId: string;
  FeedId: string | null;
  AcquisitionLocation: string;
  Properties: Properties;
  [key: string]: unknown;
}

export interface DeploymentAction {
  Id?: string;
  Name: string;
  ActionType: string;
  IsDisabled?: boolean;
  IsRequired?: boolean;
  Condition?: string;
  Environments: string[];
  ExcludedEnvironments: string[];
  Channels: string[];
  TenantTags?: string[];
  Packages: PackageReference[];
  Properties: Properties;
  [key: string]: unknown;
}

export type StepCondition = 'Success' | 'Failure' | 'Always' | 'Variable';

export interface DeploymentStep {
  Id?: string;
  Name: string;
  Condition: StepCondition;
  StartTrigger?: string;
  PackageRequirement?: string;
  Properties: Properties;
  Actions: DeploymentAction[];
  [key: string]: unknown;
}

export interface ProcessResource {
  Id: string;
  ProjectId?: string;
  RunbookId?: string;
  Version: number;
  Steps: DeploymentStep[];
  [key: string]: unknown;
}
