// The exact `cuttle-agent register` command (src/agent/main.cc's flags), one line, each value
// quoted for a POSIX shell when it needs it.

export const API_KEY_PLACEHOLDER = 'API-XXXXXXXXXXXXXXXXXXXXXXXXXX';

export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface RegisterArgs {
  server: string;
  apiKey: string;
  name: string; // empty: the machine's host name, "$(hostname)"
  environments: string[];
  roles: string[];
  home: string;
}

export function registerCommand(a: RegisterArgs): string {
  const parts = ['cuttle-agent', 'register', '--server', shellQuote(a.server)];
  parts.push('--api-key', shellQuote(a.apiKey || API_KEY_PLACEHOLDER));
  parts.push('--name', a.name ? shellQuote(a.name) : '"$(hostname)"');
  for (const e of a.environments) parts.push('--environment', shellQuote(e));
  for (const r of a.roles) parts.push('--role', shellQuote(r));
  parts.push('--home', shellQuote(a.home));
  return parts.join(' ');
}
