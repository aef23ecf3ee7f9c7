import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the launcher's helper is plain JavaScript without type declarations (bin/ ships as is).
import { MIN_NODE, nodeTooOld } from '../../../bin/node-version.js';
import { REPO } from '../cli/cli-process.js';

describe('the erpstream launcher on an old Node', () => {
  it('refuses Node 20 at once (exit 2) and says how to get Node 24, instead of failing later inside a task', () => {
    // Node 20 with this machine's Node 24 binary: the launcher reads process.versions.node, as it would on Node 20.
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.20.2"})',
        'bin/erpstream.js',
        '--help',
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('needs Node >= 22.22.0');
    expect(run.stderr).toContain('this is Node 20.20.2');
    expect(run.stderr).toContain('eval "$(scripts/node24)"');
  });

  it('accepts the oldest supported Node and newer ones, compares numerically, and matches package.json engines', () => {
    expect(nodeTooOld('22.22.0')).toBeUndefined();
    expect(nodeTooOld('22.100.0')).toBeUndefined();
    expect(nodeTooOld('24.0.0')).toBeUndefined();
    expect(nodeTooOld('22.9.1')).toContain('needs Node');
    expect(nodeTooOld('18.19.0')).toContain('needs Node');
    const engines = (JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { engines: { node: string } }).engines;
    expect(engines.node).toBe(`>=${MIN_NODE}`);
  });
});
