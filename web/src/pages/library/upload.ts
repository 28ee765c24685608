// Uploading a package to the built-in feed with progress: XMLHttpRequest, because fetch reports no
// upload progress. The portal's second (and only other) place that calls the network, so it keeps
// client.ts's rules: the CSRF token copied from its cookie into the header on this state-changing
// call, and a failure becomes an ApiError carrying the API's ErrorMessage (and Errors).
// The request is Octopus's clients' own: POST /api/packages/raw, multipart/form-data with the file
// as "fileToUpload", ?replace=true to overwrite an existing version (src/api/packages.cc).
import { ApiError, CSRF_HEADER, csrfToken, request } from '../../api/client';
import type { PackageResource } from './types';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  replace?: boolean;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
}

function errorOf(xhr: XMLHttpRequest): ApiError {
  try {
    const body = JSON.parse(xhr.responseText) as { ErrorMessage?: unknown; Errors?: unknown };
    if (typeof body.ErrorMessage === 'string' && body.ErrorMessage !== '') {
      const details = Array.isArray(body.Errors) ? body.Errors.filter((e): e is string => typeof e === 'string') : [];
      return new ApiError(xhr.status, body.ErrorMessage, details);
    }
  } catch {
    // not JSON: fall through to the status line
  }
  const reason = xhr.statusText || 'request failed';
  return new ApiError(xhr.status, `The server answered ${xhr.status} (${reason}).`);
}

export function uploadPackage(file: File, options: UploadOptions = {}): Promise<PackageResource> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/packages/raw?replace=${options.replace ? 'true' : 'false'}`);
    xhr.setRequestHeader('Accept', 'application/json');
    const token = csrfToken();
    if (token) xhr.setRequestHeader(CSRF_HEADER, token);
    xhr.upload.onprogress = (e) => {
      options.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    };
    xhr.upload.onload = () => options.onProgress?.({ loaded: file.size, total: file.size });
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as PackageResource);
        } catch {
          reject(new ApiError(xhr.status, 'The server answered with something that is not a package.'));
        }
      } else {
        // A lost session: ask client.ts, which tells the app (its 401 listeners) as for any call.
        if (xhr.status === 401) void request('GET', '/api/users/me').catch(() => undefined);
        reject(errorOf(xhr));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'The server could not be reached. Check your connection and try again.'));
    xhr.onabort = () => reject(new DOMException('The upload was canceled.', 'AbortError'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('fileToUpload', file, file.name);
    xhr.send(form);
  });
}
