/**
 * KIP-891 (Connect 4.1+): `connector.plugin.version`, `key|value|header.converter.plugin.version`,
 * `transforms.<alias>.plugin.version` and `predicates.<alias>.plugin.version` take a version or a Maven version
 * range. Connect resolves them among installed versions; we ship exactly one version of each plugin, so a value
 * is valid when it names or includes that version. A bare version is exact (Connect turns `1.2` into `[1.2,1.2]`,
 * unlike Maven's "soft" requirement). Comparison follows Maven's ComparableVersion for what versions here look
 * like: numeric parts numerically, then qualifiers (a release sorts after its -SNAPSHOT/-rc qualifiers).
 */

interface Restriction {
  lower: string | null;
  lowerInclusive: boolean;
  upper: string | null;
  upperInclusive: boolean;
}

export class VersionSpecError extends Error {}

function parts(v: string): Array<number | string> {
  return v
    .trim()
    .toLowerCase()
    .split(/[.-]/)
    .filter((p) => p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** Maven-like order: 1.0 = 1.0.0, 1.0-rc1 < 1.0 < 1.0.1, "final"/"ga"/"release" are the release itself. */
export function compareVersions(a: string, b: string): number {
  const norm = (v: string) => parts(v).filter((p) => p !== 'final' && p !== 'ga' && p !== 'release');
  const x = norm(a);
  const y = norm(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) continue;
    // a missing part: 0 against a number (keep comparing: 1 < 1.0.1); a release sorts after a qualifier (1.0 > 1.0-rc1)
    if (p === undefined) {
      if (q === 0) continue;
      return typeof q === 'number' ? -1 : 1;
    }
    if (q === undefined) {
      if (p === 0) continue;
      return typeof p === 'number' ? 1 : -1;
    }
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    if (typeof p === 'number') return 1; // a number sorts after a qualifier
    if (typeof q === 'number') return -1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** Parses a version or a Maven range (`[1.0,2.0)`, `[1.0,)`, `(,1.0]`, `[1.0]`, unions `[1,2),[3,4)`). */
export function parseVersionSpec(spec: string): Restriction[] {
  const s = spec.trim();
  if (s === '') throw new VersionSpecError('A version may not be empty');
  if (!/^[[(]/.test(s)) {
    if (/[[\](),]/.test(s)) throw new VersionSpecError(`Invalid version specification: ${spec}`);
    return [{ lower: s, lowerInclusive: true, upper: s, upperInclusive: true }];
  }
  const out: Restriction[] = [];
  const re = /\s*([[(])([^\])]*)([\])])\s*(,|$)/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < s.length && (m = re.exec(s)) !== null) {
    at = re.lastIndex;
    const [, open, body, close] = m;
    const bounds = body!.split(',').map((b) => b.trim());
    if (bounds.length === 1) {
      if (open !== '[' || close !== ']' || bounds[0] === '')
        throw new VersionSpecError(`Invalid version range: ${spec}`);
      out.push({ lower: bounds[0]!, lowerInclusive: true, upper: bounds[0]!, upperInclusive: true });
      continue;
    }
    if (bounds.length !== 2) throw new VersionSpecError(`Invalid version range: ${spec}`);
    const [lo, hi] = bounds as [string, string];
    if (lo !== '' && hi !== '' && compareVersions(lo, hi) > 0) {
      throw new VersionSpecError(`Range defies version ordering: ${spec}`);
    }
    out.push({
      lower: lo === '' ? null : lo,
      lowerInclusive: open === '[',
      upper: hi === '' ? null : hi,
      upperInclusive: close === ']',
    });
  }
  if (at !== s.length || out.length === 0) throw new VersionSpecError(`Invalid version range: ${spec}`);
  return out;
}

/** How Connect prints a spec in its error messages: a bare version as the exact range `[v,v]`. */
export function formatVersionSpec(restrictions: readonly Restriction[]): string {
  return restrictions
    .map((r) => `${r.lowerInclusive ? '[' : '('}${r.lower ?? ''},${r.upper ?? ''}${r.upperInclusive ? ']' : ')'}`)
    .join(',');
}

export function versionSatisfies(version: string, restrictions: readonly Restriction[]): boolean {
  return restrictions.some((r) => {
    if (r.lower !== null) {
      const c = compareVersions(version, r.lower);
      if (c < 0 || (c === 0 && !r.lowerInclusive)) return false;
    }
    if (r.upper !== null) {
      const c = compareVersions(version, r.upper);
      if (c > 0 || (c === 0 && !r.upperInclusive)) return false;
    }
    return true;
  });
}

/**
 * The problem with asking for `spec` of plugin `className` (installed: `installed`), as Connect words it, or
 * null when the installed version satisfies it. Empty/absent specs mean "whatever is installed".
 */
export function pluginVersionProblem(className: string, installed: string, spec: string | null | undefined) {
  if (spec === null || spec === undefined || spec.trim() === '') return null;
  let restrictions: Restriction[];
  try {
    restrictions = parseVersionSpec(spec);
  } catch (e) {
    return `Invalid version specification ${spec} for plugin ${className}: ${(e as Error).message}`;
  }
  if (versionSatisfies(installed, restrictions)) return null;
  return `Plugin ${className} not found that matches the version range ${formatVersionSpec(restrictions)}, available versions: [${installed}]`;
}
