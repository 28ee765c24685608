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
  DeploymentProcessId?: string;
  VariableSetId?: string;
  IsDisabled?: boolean;
  [key: string]: unknown;
}

export interface ResourceCollection<T> {
  Items: T[];
  TotalResults?: number;
  ItemsPerPage?: number;
}
