// The resources the Tasks area reads (Octopus's shapes, PascalCase as the API sends them).

export interface TaskResource {
  Id: string;
  SpaceId: string | null;
  Name: string;
  Description: string;
  Arguments: Record<string, unknown> | null;
  State: string;
  QueueTime: string;
  StartTime: string | null;
  CompletedTime: string | null;
  Duration: string | null;
  ErrorMessage: string;
  ServerNode: string | null;
  IsCompleted: boolean;
  HasPendingInterruptions: boolean;
  PendingInterruptionTypes: string[];
  HasWarningsOrErrors: boolean;
}

export interface Paged<T> {
  Items: T[];
  TotalResults: number;
  ItemsPerPage: number;
  NumberOfPages?: number;
}

export interface ActivityLog {
  Id: string;
  Name: string;
  Started: string | null;
  Ended: string | null;
  Status: string;
  ProgressPercentage: number;
  Children: ActivityLog[];
}

export interface TaskDetails {
  Task: TaskResource;
  Progress: { ProgressPercentage: number };
  PhysicalLogSize: number;
  ActivityLogs: ActivityLog[];
}

export interface ArtifactResource {
  Id: string;
  Filename: string;
  Created?: string;
  Size?: number;
}

export interface DeploymentResource {
  Id: string;
  Name?: string;
  ProjectId: string;
  ReleaseId: string;
  EnvironmentId: string;
}

export interface FormButton {
  Text: string;
  Value: string;
  RequiresConfirmation: boolean;
}

export interface FormElement {
  Name: string;
  IsValueRequired: boolean;
  Control: { Type: string; Text?: string; Label?: string; Buttons?: FormButton[] };
}

export interface InterruptionResource {
  Id: string;
  Title: string;
  Type: 'ManualIntervention' | 'GuidedFailure';
  IsPending: boolean;
  Form: { Values: Record<string, string | null>; Elements: FormElement[] };
  ResponsibleUserId: string | null;
  HasResponsibility: boolean;
  TaskId: string;
  CorrelationId: string;
}
