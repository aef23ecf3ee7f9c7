import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WORKER_SEMI_SPACE_MB,
  SEMI_SPACE_ENV,
  workerHeapDecision,
} from '../../../../runtime/worker/heap-settings.js';

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'heap-probe.ts');

function runProbe(args: string[], env: Record<string, string> = {}) {
  const cleanEnv = { ...process.env };
  delete cleanEnv.NODE_OPTIONS;
  delete cleanEnv.ERPSTREAM_HEAP_RELAUNCHED;
  delete cleanEnv[SEMI_SPACE_ENV];
  const r = spawnSync(process.execPath, ['--import', 'tsx', probe, ...args], {
    env: { ...cleanEnv, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  return { status: r.status, stderr: r.stderr, lines, report: lines.length > 0 ? JSON.parse(lines.at(-1)!) : null };
}

describe('worker heap settings (issue 18: worker RSS on Node 24)', () => {
  it('relaunches `worker start` in place with the default semi-space, once', () => {
    const { lines, report } = runProbe(['worker', 'start', 'w.properties']);
    expect(lines).toHaveLength(1); // the process was replaced, not run twice
    expect(report.execArgv.filter((a: string) => a.startsWith('--max-semi-space-size'))).toEqual([
      `--max-semi-space-size=${DEFAULT_WORKER_SEMI_SPACE_MB}`,
    ]);
    expect(report.execArgv).toContain('--import'); // the loader the process was started with is kept
    expect(report.args).toEqual(['worker', 'start', 'w.properties']);
    expect(report.newSpaceMaxMb).toBeLessThanOrEqual(2 * DEFAULT_WORKER_SEMI_SPACE_MB);
  }, 90_000);

  it('leaves other commands and a user setting alone', () => {
    expect(runProbe(['connectors', 'list']).report.execArgv).not.toContainEqual(expect.stringMatching(/semi-space/));
    const own = runProbe(['worker', 'start'], { NODE_OPTIONS: '--max-semi-space-size=4' }).report;
    expect(own.execArgv).not.toContainEqual(expect.stringMatching(/semi-space/));
    expect(own.newSpaceMaxMb).toBeLessThanOrEqual(8);
  }, 90_000);

  it('decides from the command line, the environment and the flags already given', () => {
    expect(workerHeapDecision(['worker', 'start'], {}, [])).toEqual({
      action: 'relaunch',
      flags: [`--max-semi-space-size=${DEFAULT_WORKER_SEMI_SPACE_MB}`],
    });
    expect(workerHeapDecision(['--context', 'x', 'worker', 'start'], { [SEMI_SPACE_ENV]: '8' }, [])).toEqual({
      action: 'relaunch',
      flags: ['--max-semi-space-size=8'],
    });
    expect(workerHeapDecision(['worker', 'start'], { [SEMI_SPACE_ENV]: '0' }, []).action).toBe('keep');
    expect(workerHeapDecision(['worker', 'status'], {}, []).action).toBe('keep');
    expect(workerHeapDecision(['worker', 'start'], {}, ['--max-semi-space-size=32']).action).toBe('keep');
    expect(workerHeapDecision(['worker', 'start'], { NODE_OPTIONS: '--max-semi-space-size 32' }, []).action).toBe(
      'keep',
    );
    expect(workerHeapDecision(['worker', 'start'], { ERPSTREAM_HEAP_RELAUNCHED: '1' }, []).action).toBe('keep');
  });

  it('refuses a setting that is not a size, naming the variable and the value', () => {
    const d = workerHeapDecision(['worker', 'start'], { [SEMI_SPACE_ENV]: '16mb' }, []);
    expect(d).toMatchObject({ action: 'error', code: 'ERPSTREAM_CONFIG' });
    expect(d.action === 'error' && d.message).toContain(`${SEMI_SPACE_ENV}=16mb`);
    const r = runProbe(['worker', 'start'], { [SEMI_SPACE_ENV]: '-1' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${SEMI_SPACE_ENV}=-1`);
  }, 90_000);
});
