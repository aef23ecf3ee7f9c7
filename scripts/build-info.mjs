#!/usr/bin/env node
/* global process, URL */
// Writes dist/build-info.json ({version, commit}) after `tsc -p tsconfig.build.json`: a package or image has no
// .git, so the worker's GET / reads its commit from here (runtime/api/build-info.ts). The commit is
// ERPSTREAM_COMMIT when set (docker build --build-arg), else `git rev-parse HEAD`, else "unknown".
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
let commit = process.env.ERPSTREAM_COMMIT?.trim() || '';
if (!commit) {
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    commit = 'unknown';
  }
}
mkdirSync(new URL('dist/', root), { recursive: true });
writeFileSync(new URL('dist/build-info.json', root), `${JSON.stringify({ version: pkg.version, commit })}\n`);
process.stdout.write(`dist/build-info.json: ${pkg.version} ${commit}\n`);
