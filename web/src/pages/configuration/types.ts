// The resources the configuration pages read (users, API keys, events), as the API sends them
// (src/api/users.cc, src/model/event.cc).

export interface User {
  Id: string;
  Username: string;
  DisplayName: string;
  EmailAddress: string;
  IsActive: boolean;
  IsService: boolean;
  IsRequestor: boolean;
  CanPasswordBeEdited: boolean;
}

export interface ApiKey {
  Id: string;
  Purpose: string;
  UserId: string;
  Created: string;
  Expires: string | null;
}

// The answer to creating a key: the only time the key itself is sent.
export interface CreatedApiKey extends ApiKey {
  ApiKey: string;
}

export interface AuditEvent {
  Id: string;
  Category: string;
  Message: string;
  RelatedDocumentIds: string[];
  UserId: string;
  Username: string;
  Occurred: string;
  SpaceId: string | null;
}

export interface EventCategory {
  Id: string;
  Name: string;
}

export interface Collection<T> {
  Items: T[];
  TotalResults: number;
  ItemsPerPage: number;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}
