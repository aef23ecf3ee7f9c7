import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { expandDocuments } from '../../../../integrations/expand.js';
import { loadDocuments } from '../../../../integrations/documents.js';
import { type FakeConnect, startFakeConnect } from '../connect/fake-connect.js';
import { runIntegrationsCli } from './run-cli.js';

/** `integrations plan --detailed-exitcode` (0 nothing to do, 2 changes pending, 1 error) and `--summary`, for CI. */

const EXAMPLES = fileURLToPath(new URL('../../../../examples/integrations', import.meta.url));
const VALID = { status: 200, body: { name: 'x', error_count: 0, groups: [], configs: [] } };
const validateRoutes = {
  'PUT /connector-plugins/erpstream.ErpSourceConnector/config/validate': VALID,
  'PUT /connector-plugins/erpstream.LookupSinkConnector/config/validate': VALID,
};

let fake: FakeConnect | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function plan(cluster: Record<string, unknown>, extra: string[] = []) {
  fake = await startFakeConnect({
    'GET /connectors?expand=status&expand=info': { status: 200, body: cluster },
    'GET /connectors': { status: 200, body: Object.keys(cluster) },
    ...validateRoutes,
  });
  return runIntegrationsCli(['integrations', 'plan', '-f', EXAMPLES, '--connect-url', fake.url, ...extra]);
}

describe('integrations plan for CI', () => {
  it('exits 2 when changes are pending, and --summary prints one line per connector and the counts', async () => {
    const r = await plan({}, ['--detailed-exitcode', '--summary']);
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('create source erp-source');
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toMatch(/9 to create/);
    expect(r.stdout).not.toContain('connector.class');
  });

  it('exits 0 when the cluster already matches, 2 only with the flag', async () => {
    const { connectors } = expandDocuments(await loadDocuments([EXAMPLES]));
    const cluster = Object.fromEntries(
      connectors.map((c) => [c.name, { info: { name: c.name, config: c.config, tasks: [], type: c.role } }]),
    );
    expect((await plan(cluster, ['--detailed-exitcode'])).code).toBe(0);
    await fake?.close();
    expect((await plan({})).code).toBe(0);
  });

  it('exits 1 on any error with the flag (2 must mean "changes pending")', async () => {
    const r = await runIntegrationsCli([
      'integrations',
      'plan',
      '-f',
      EXAMPLES,
      '--connect-url',
      'http://127.0.0.1:9',
      '--detailed-exitcode',
    ]);
    expect(r.code).toBe(1);
    const bad = await runIntegrationsCli(['integrations', 'plan', '-f', '/nonexistent', '--detailed-exitcode']);
    expect(bad.code).toBe(1);
  });
});
