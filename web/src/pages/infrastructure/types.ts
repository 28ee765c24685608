// The Octopus resources the Infrastructure pages read (src/api/environments.cc, machines.cc).

export interface Collection<T> {
  Items: T[];
  TotalResults: number;
  ItemsPerPage: number;
  NumberOfPages: number;
}

export interface EnvironmentResource {
  Id: string;
  Name: string;
  Description: string;
  SortOrder: number;
  UseGuidedFailure: boolean;
  AllowDynamicInfrastructure: boolean;
}

export type HealthStatus = 'Healthy' | 'Unhealthy' | 'HasWarnings' | 'Unavailable' | 'Unknown';
export const HEALTH_STATUSES: HealthStatus[] = ['Healthy', 'HasWarnings', 'Unhealthy', 'Unavailable', 'Unknown'];

export interface MachineEndpoint {
  CommunicationStyle: string; // None | TentacleActive
  Thumbprint?: string;
  Uri?: string;
  Id?: string;
}

export interface MachineResource {
  Id: string;
  Name: string;
  Roles: string[];
  EnvironmentIds: string[];
  IsDisabled: boolean;
  HealthStatus: HealthStatus;
  StatusSummary: string;
  Endpoint: MachineEndpoint;
  // Cuttle's own: the agent's last authenticated request (ISO 8601); null without an agent.
  LastContact?: string | null;
}

export interface EnvironmentSummaryCounts {
  MachineHealthStatusSummaries: Record<string, number>;
  MachineEndpointSummaries: Record<string, number>;
  TotalMachines: number;
  TotalDisabledMachines: number;
}

export interface EnvironmentSummary extends EnvironmentSummaryCounts {
  Environment: EnvironmentResource;
}

export interface EnvironmentsSummaryResource extends EnvironmentSummaryCounts {
  EnvironmentSummaries: EnvironmentSummary[];
}

export interface TaskResource {
  Id: string;
  Name: string;
  State: string;
}
