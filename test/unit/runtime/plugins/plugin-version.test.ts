import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  formatVersionSpec,
  parseVersionSpec,
  pluginVersionProblem,
  versionSatisfies,
} from '../../../../runtime/plugins/plugin-version.js';

describe('KIP-891 version specs (Maven ranges, a bare version exact)', () => {
  it('orders versions like Maven for the shapes plugins use', () => {
    expect(compareVersions('1.0', '1.0.0')).toBe(0);
    expect(compareVersions('3.6.1.Final', '3.6.1')).toBe(0);
    expect(compareVersions('1.0-rc1', '1.0')).toBe(-1);
    expect(compareVersions('1.0.1', '1.0')).toBe(1);
    expect(compareVersions('27.0.1', '27')).toBe(1); // a missing part is 0, and the comparison goes on
    expect(compareVersions('1', '1.0.0-rc1')).toBe(1);
    expect(compareVersions('4.10.0', '4.9.9')).toBe(1);
  });

  it('is a total order consistent with numeric tuples', () => {
    const v = fc.array(fc.nat(30), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(v, v, (a, b) => {
        const c = compareVersions(a.join('.'), b.join('.'));
        expect(compareVersions(b.join('.'), a.join('.')) + c).toBe(0); // antisymmetric (and no -0 trouble)
        const pad = (x: number[]) => [...x, 0, 0, 0, 0].slice(0, 4);
        const [pa, pb] = [pad(a), pad(b)];
        const i = pa.findIndex((n, k) => n !== pb[k]);
        expect(c).toBe(i < 0 ? 0 : pa[i]! < pb[i]! ? -1 : 1);
      }),
    );
  });

  it('parses ranges and prints a bare version as Connect does', () => {
    expect(formatVersionSpec(parseVersionSpec('4.3.2'))).toBe('[4.3.2,4.3.2]');
    expect(formatVersionSpec(parseVersionSpec('[1.0,2.0), [3.0,)'))).toBe('[1.0,2.0),[3.0,)');
    expect(versionSatisfies('1.5', parseVersionSpec('[1.0,2.0)'))).toBe(true);
    expect(versionSatisfies('2.0', parseVersionSpec('[1.0,2.0)'))).toBe(false);
    expect(versionSatisfies('2.0', parseVersionSpec('[1.0,2.0]'))).toBe(true);
    expect(versionSatisfies('0.1.0', parseVersionSpec('(,0.1.0)'))).toBe(false);
    expect(versionSatisfies('3.5', parseVersionSpec('[1,2),[3,4)'))).toBe(true);
    expect(versionSatisfies('0.1.0', parseVersionSpec('[0.1.0]'))).toBe(true);
  });

  it('refuses malformed specs with a message instead of throwing anything else', () => {
    for (const bad of ['[1.0', '1.0)', '[2.0,1.0]', '[]', '[1,2,3]', '1,2', '(1.0)', '[1.0,2.0)x']) {
      expect(pluginVersionProblem('C', '1.5', bad), bad).toMatch(/^Invalid version specification/);
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const p = pluginVersionProblem('C', '1.5', s);
        expect(p === null || typeof p === 'string').toBe(true);
      }),
    );
  });

  it('accepts what holds the installed version and names what is available otherwise', () => {
    expect(pluginVersionProblem('C', '0.1.0', null)).toBeNull();
    expect(pluginVersionProblem('C', '0.1.0', '')).toBeNull();
    expect(pluginVersionProblem('C', '0.1.0', '0.1.0')).toBeNull();
    expect(pluginVersionProblem('C', '0.1.0', '[0.1,1)')).toBeNull();
    expect(pluginVersionProblem('C', '0.1.0', '4.3.2')).toBe(
      'Plugin C not found that matches the version range [4.3.2,4.3.2], available versions: [0.1.0]',
    );
  });
});
