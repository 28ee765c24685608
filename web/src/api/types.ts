// The Octopus resource shapes the portal reads (PascalCase, as the API sends them).

export interface UserResource {
  Id: string;
  Username: string;
  DisplayName?: string;
  EmailAddress?: string;
  IsService?: boolean;
  IsActive?: boolean;
}

export interface ServerNode {
  Id: string;
  Name: string;
  MaxConcurrentTasks: number;
  IsInMaintenanceMode: boolean;
  LastSeen: string;
  IsOffline: boolean;
  RunningTaskCount: number;
  Version: string;
}

export interface NodesSummary {
  Nodes: ServerNode[];
}

export interface NamedResource {
  Id: string;
  Name: string;
}

export interface DashboardItem {
  ProjectId: string;
  EnvironmentId: string;
  ReleaseVersion: string;
  State: string;
  TaskId: string;
  HasWarningsOrErrors?: boolean;
  IsCurrent?: boolean;
  CompletedTime?: string | null;
  QueueTime?: string;
}

export interface DashboardResource {
  Projects: NamedResource[];
  Environments: NamedResource[];
  Items: DashboardItem[];
}
