import { useEffect, type ReactNode } from 'react';

// A page's heading, which also names the browser tab.
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Cuttle`;
  }, [title]);
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{title}</h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

// An error as the API said it: its ErrorMessage, and the field problems it listed (Errors).
export function ErrorMessage({ error }: { error?: { message: string; details?: string[] } | string }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message;
  const details = typeof error === 'string' ? [] : (error.details ?? []).filter((d) => d !== message);
  return (
    <div className="error" role="alert">
      <p>{message}</p>
      {details.length > 0 && (
        <ul>
          {details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
