import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../../../../cli/demo/progress.js';
import { runDemo } from '../../../../cli/demo/run.js';

/** The demo starts only what it uses: no MariaDB, no Kafka Connect or Debezium (issue 14, item 7). */
describe('the services the demo asks the local stack for', () => {
  async function stackCalls(pgUrl?: string): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), 'erpstream-demo-stack-'));
    const calls = join(dir, 'calls');
    const script = join(dir, 'stack');
    // `env` knows nothing (so the demo must start the stack); `up` records its arguments and fails.
    await writeFile(script, `#!/bin/sh\necho "$*" >> '${calls}'\n[ "$1" = env ] && exit 0\nexit 1\n`);
    await chmod(script, 0o755);
    await expect(
      runDemo({
        durationMs: 1000,
        keep: false,
        format: 'avro',
        env: {},
        log: () => {},
        progress: new ProgressLine(new PassThrough()),
        stackScript: script,
        ...(pgUrl ? { pgUrl } : {}),
      }),
    ).rejects.toThrow(/scripts\/stack up failed/);
    return (await readFile(calls, 'utf8')).trim().split('\n');
  }

  it('starts Kafka, the registry and PostgreSQL only', async () => {
    expect((await stackCalls()).filter((c) => c.startsWith('up'))).toEqual(['up --only kafka,registry,postgres']);
  });

  it('leaves PostgreSQL out when --pg-url names one', async () => {
    expect((await stackCalls('postgresql://127.0.0.1:1/x')).filter((c) => c.startsWith('up'))).toEqual([
      'up --only kafka,registry',
    ]);
  });
});
