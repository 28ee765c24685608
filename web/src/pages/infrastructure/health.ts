// Starting a Health task (src/deploy/health_kind.cc) for some targets, an environment, or all.
import { api } from '../../api/client';
import type { TaskResource } from './types';

export async function startHealthCheck(scope: { machineIds?: string[]; environmentId?: string; description: string }) {
  const Arguments: Record<string, unknown> = {};
  if (scope.machineIds) Arguments.MachineIds = scope.machineIds;
  if (scope.environmentId) Arguments.EnvironmentId = scope.environmentId;
  return api.post<TaskResource>('/api/tasks', { Name: 'Health', Description: scope.description, Arguments });
}
