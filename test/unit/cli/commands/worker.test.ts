import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../cli-process.js';

describe('erpstream worker start with a worker config it cannot read', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'erpstream-worker-cmd-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a missing file: exit 2, the path, and a hint about the path (not "the configuration key named above")', async () => {
    const file = join(dir, 'nope.properties');
    const run = await runCliProcess(['worker', 'start', file, '--standalone']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Cannot read config file ${file}`);
    expect(run.stderr).toContain('hint: Check the path of the worker config and its permissions.');
    expect(run.stderr).not.toContain('configuration key named above');
  });

  it('bad JSON: exit 2, the position, and a hint to fix the file there', async () => {
    const file = join(dir, 'worker.json');
    await writeFile(file, '{"bootstrap.servers": "127.0.0.1:9092",}');
    const run = await runCliProcess(['worker', 'start', file, '--standalone']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is not valid JSON: .*position 39/);
    expect(run.stderr).toContain('hint: Fix the worker config at the place named above');
  });
});
