import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERPSTREAM_VERSION, buildInfo } from '../../../../runtime/api/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|js|mjs|html)$/.test(name) ? [full] : [];
  });
}

describe('the version, in one place (package.json)', () => {
  it('is what the worker, the CLI and the built-in plugins report', () => {
    expect(buildInfo().version).toBe(pkg.version);
    expect(ERPSTREAM_VERSION).toBe(pkg.version);
  });

  it('is written in no source file, so a release changes package.json only', () => {
    const literal = new RegExp(`['"\`]v?${pkg.version.replace(/\./g, '\\.')}['"\`]`);
    const dirs = ['runtime', 'connectors', 'transforms', 'cli', 'bin', 'console', 'scripts', 'bundle'];
    const offenders = dirs
      .map((d) => path.join(root, d))
      .filter((d) => {
        try {
          return statSync(d).isDirectory();
        } catch {
          return false;
        }
      })
      .flatMap(sourceFiles)
      .filter((f) => literal.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(root, f));
    expect(offenders).toEqual([]);
  });
});
