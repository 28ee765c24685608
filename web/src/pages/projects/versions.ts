// Package and release versions: ordering (SemVer with an optional fourth part, pre-releases
// before their release) and the next release version from the project's versioning template,
// as the server expands it (src/model/release_version.h) for the tokens it knows.

interface Parsed {
  parts: number[];
  pre: string;
}

function parse(v: string): Parsed | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(v.trim());
  if (!m) return undefined;
  return { parts: [1, 2, 3, 4].map((i) => Number(m[i] ?? 0)), pre: m[5] ?? '' };
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    if (as[i] === undefined) return -1;
    if (bs[i] === undefined) return 1;
    const an = /^\d+$/.test(as[i]);
    const bn = /^\d+$/.test(bs[i]);
    if (an && bn && Number(as[i]) !== Number(bs[i])) return Number(as[i]) - Number(bs[i]);
    if (an !== bn) return an ? -1 : 1;
    const c = as[i].toLowerCase().localeCompare(bs[i].toLowerCase());
    if (c !== 0) return c;
  }
  return 0;
}

// Negative when a < b. Unparseable versions sort before parseable ones, by text.
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : a.localeCompare(b);
  for (let i = 0; i < 4; i++) if (pa.parts[i] !== pb.parts[i]) return pa.parts[i] - pb.parts[i];
  return comparePre(pa.pre, pb.pre);
}

export function isPrerelease(v: string): boolean {
  return (parse(v)?.pre ?? '') !== '';
}

// Newest first.
export function sortVersionsDescending(versions: string[]): string[] {
  return [...versions].sort((a, b) => compareVersions(b, a));
}

// The newest stable version, else the newest of all (as the server picks by default).
export function latestVersion(versions: string[]): string | undefined {
  const sorted = sortVersionsDescending(versions);
  return sorted.find((v) => !isPrerelease(v)) ?? sorted[0];
}

export const DEFAULT_VERSION_TEMPLATE =
  '#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}';

export interface VersionContext {
  lastVersion?: string;
  channelLastVersion?: string;
  channelName: string;
  now?: Date;
}

function tokenValues(last: string | undefined): Record<string, string> {
  const p = last ? parse(last) : undefined;
  const parts = p?.parts ?? [0, 0, 0, 0];
  const suffix = p?.pre ? `-${p.pre}` : '';
  const names = ['Major', 'Minor', 'Patch', 'Build'];
  const out: Record<string, string> = {};
  names.forEach((n, i) => {
    out[`Last${n}`] = String(parts[i]);
    out[`Next${n}`] = String(parts[i] + 1);
  });
  out.LastRevision = out.LastBuild;
  out.NextRevision = out.NextBuild;
  out.LastSuffix = suffix;
  out.NextSuffix = suffix;
  return out;
}

// The version the template gives, or undefined if it names a token this page does not know
// (then the caller proposes the last version + 1 patch).
export function expandVersionTemplate(template: string, ctx: VersionContext): string | undefined {
  const now = ctx.now ?? new Date();
  const project = tokenValues(ctx.lastVersion);
  const channel = tokenValues(ctx.channelLastVersion);
  const pad = (n: number) => String(n).padStart(2, '0');
  const start = Date.UTC(now.getUTCFullYear(), 0, 0);
  const fixed: Record<string, string> = {
    'Octopus.Release.Channel.Name': ctx.channelName,
    'Octopus.Date.Day': pad(now.getUTCDate()),
    'Octopus.Date.Month': pad(now.getUTCMonth() + 1),
    'Octopus.Date.Year': String(now.getUTCFullYear()),
    'Octopus.Date.DayOfYear': String(Math.floor((now.getTime() - start) / 86400000)),
    'Octopus.Time.Hour': pad(now.getUTCHours()),
    'Octopus.Time.Minute': pad(now.getUTCMinutes()),
    'Octopus.Time.Second': pad(now.getUTCSeconds()),
  };
  let unknown = false;
  const out = template.replace(/#\{([^}]*)\}/g, (_, raw: string) => {
    const token = raw.trim();
    const lower = token.toLowerCase();
    for (const [k, v] of Object.entries(fixed)) if (k.toLowerCase() === lower) return v;
    const m = /^octopus\.version\.(channel\.)?(\w+)$/i.exec(token);
    if (m) {
      const table = m[1] ? channel : project;
      for (const [k, v] of Object.entries(table)) if (k.toLowerCase() === m[2].toLowerCase()) return v;
    }
    unknown = true;
    return '';
  });
  if (unknown || out.trim() === '') return undefined;
  // Mask characters, for a template without tokens ("2.1.c.i").
  if (!template.includes('#{') && /(^|\.)[ci](\.|$)/.test(out)) {
    const last = parse(ctx.lastVersion ?? '')?.parts ?? [0, 0, 0, 0];
    return out
      .split('.')
      .map((part, i) => (part === 'i' ? String((last[i] ?? 0) + 1) : part === 'c' ? String(last[i] ?? 0) : part))
      .join('.');
  }
  return out;
}

// The proposed version of the next release.
export function nextReleaseVersion(template: string | undefined, ctx: VersionContext): string {
  const expanded = expandVersionTemplate(template || DEFAULT_VERSION_TEMPLATE, ctx);
  if (expanded) return expanded;
  const p = parse(ctx.lastVersion ?? '');
  if (!p) return '0.0.1';
  return `${p.parts[0]}.${p.parts[1]}.${p.parts[2] + 1}`;
}

// Whether `version` satisfies a channel rule: a NuGet range ("1.0" = at least 1.0, "[1.0,2.0)",
// "(,2.0]", "[1.5]") and a pre-release tag pattern (a regex on the tag; "^$" = stable only).
// An unreadable rule answers true: the server is the judge and says why.
export function satisfiesRule(version: string, range: string, tag: string): boolean {
  const r = range.trim();
  if (r !== '') {
    const m = /^([[(])\s*([^,\])]*?)\s*(?:,\s*([^\])]*?)\s*)?([\])])$/.exec(r);
    if (m) {
      const [, open, min, max, close] = m;
      const exact = max === undefined;
      if (exact) {
        if (compareVersions(version, min) !== 0) return false;
      } else {
        if (min !== '' && (open === '[' ? compareVersions(version, min) < 0 : compareVersions(version, min) <= 0)) return false;
        if (max !== '' && (close === ']' ? compareVersions(version, max) > 0 : compareVersions(version, max) >= 0)) return false;
      }
    } else if (parse(r)) {
      if (compareVersions(version, r) < 0) return false;
    }
  }
  const t = tag.trim();
  if (t !== '') {
    try {
      if (!new RegExp(t).test(parse(version)?.pre ?? '')) return false;
    } catch {
      return true;
    }
  }
  return true;
}
