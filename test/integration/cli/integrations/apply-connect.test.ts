import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../../../cli/connect/client.js';
import { runIntegrationsCli } from '../../../unit/cli/integrations/run-cli.js';
import { requireEnv } from '../../env.js';

/**
 * plan / apply / idempotence / list / delete against the real Apache Kafka Connect 3.9 of the stack. Connect
 * has none of our plugins, so the fixture integration uses Connect's FileStream connectors and a built-in
 * SMT (RegexRouter): the mechanics (shared source, per-customer sinks, labels, diffs) are the same.
 */

const run = Date.now().toString(36);
const src = `files-${run}`;
const a = `ita-${run}`;
const b = `itb-${run}`;
let dir: string;
let url: string;
let client: ConnectClient;

const base = (tmp: string) => `apiVersion: erpstream/v1
kind: IntegrationTemplate
source:
  name: ${src}
  connectorClass: org.apache.kafka.connect.file.FileStreamSourceConnector
  config:
    file: ${join(tmp, 'in.txt')}
    topic: it-files-${run}
sink:
  connectorClass: org.apache.kafka.connect.file.FileStreamSinkConnector
  topics: [it-files-${run}]
  config:
    file: ${join(tmp, 'out-${customer}.txt')}
    db.password: \${env:ERP_DB_PASSWORD}
  transforms:
    - alias: route
      type: org.apache.kafka.connect.transforms.RegexRouter
      config: { regex: "(.*)", replacement: "$1-\${customer}" }
errors:
  tolerance: all
`;
const customer = (name: string, extra = '') =>
  `apiVersion: erpstream/v1\nkind: Integration\nextends: ./base.yaml\nmetadata: {name: ${name}}\n${extra}`;

async function cli(...args: string[]) {
  return runIntegrationsCli([...args, '--connect-url', url]);
}

beforeAll(async () => {
  url = requireEnv('CONNECT_URL');
  client = new ConnectClient({ url });
  dir = await mkdtemp(join(tmpdir(), 'erpstream-it-integrations-'));
  await writeFile(join(dir, 'in.txt'), '');
  await writeFile(join(dir, 'base.yaml'), base(dir));
  await writeFile(join(dir, 'a.yaml'), customer(a));
  await writeFile(join(dir, 'b.yaml'), customer(b));
});

afterAll(async () => {
  for (const name of await client.listConnectors()) {
    if (name.includes(run)) await client.deleteConnector(name).catch(() => undefined);
  }
});

const withoutUnknownKeyWarnings = (stderr: string) =>
  stderr.replace(/^warning: .*unknown key "db\.password".*\n/gm, '');

describe('integrations on Apache Kafka Connect', () => {
  it('plan shows the shared source and one sink per customer to create', async () => {
    const r = await cli('integrations', 'plan', '-f', join(dir, 'a.yaml'), '-f', join(dir, 'b.yaml'));
    // db.password is not a FileStreamSink key: named once per file (issue 14), nothing else on stderr.
    expect(r.stderr.match(/^warning: .*unknown key "db\.password"/gm)).toHaveLength(2);
    expect(withoutUnknownKeyWarnings(r.stderr)).toBe('');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`+ create source ${src}-source [${a}, ${b}]`);
    expect(r.stdout).toContain(`+ create sink ${a}-sink [${a}]`);
    expect(r.stdout).toContain('    + db.password: ${env:ERP_DB_PASSWORD}');
    expect(r.stdout).toContain('Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged.');
    expect(await client.listConnectors()).not.toContain(`${a}-sink`);
  });

  it('apply --dry-run writes nothing', async () => {
    const r = await cli('integrations', 'apply', '--dry-run', '-f', join(dir, 'a.yaml'), '-f', join(dir, 'b.yaml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run: nothing was written.');
    expect((await client.listConnectors()).filter((n) => n.includes(run))).toEqual([]);
  });

  it('apply creates the connectors Connect accepts, with their ownership labels and placeholders unresolved', async () => {
    const r = await cli('integrations', 'apply', '-f', join(dir, 'a.yaml'), '-f', join(dir, 'b.yaml'));
    expect(withoutUnknownKeyWarnings(r.stderr)).toBe('');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Done: 3 created, 0 updated, 0 deleted.');
    expect((await client.listConnectors()).filter((n) => n.includes(run)).sort()).toEqual(
      [`${a}-sink`, `${b}-sink`, `${src}-source`].sort(),
    );
    const config = await client.getConnectorConfig(`${a}-sink`);
    expect(config).toMatchObject({
      'erpstream.integration': a,
      'erpstream.source': src,
      'erpstream.managed-by': 'erpstream-integrations',
      'db.password': '${env:ERP_DB_PASSWORD}',
      'transforms.route.replacement': `$1-${a}`,
      file: join(dir, `out-${a}.txt`),
    });
  });

  it('applying twice changes nothing', async () => {
    const r = await cli('integrations', 'apply', '-f', join(dir, 'a.yaml'), '-f', join(dir, 'b.yaml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No changes: 3 connectors up to date.');
    expect(r.stdout).not.toContain('Done:');
  });

  it('list shows both integrations on their shared source', async () => {
    const r = await runIntegrationsCli(['-o', 'json', 'integrations', 'list', '--connect-url', url]);
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as Array<{ integration: string; source: string; connectors: string[] }>).filter(
      (x) => x.integration.includes(run),
    );
    expect(rows.map((x) => [x.integration, x.source, x.connectors])).toEqual([
      [a, src, [`${a}-sink`]],
      [b, src, [`${b}-sink`]],
    ]);
  });

  it('a changed overlay is planned as a key-level update and applied', async () => {
    await writeFile(join(dir, 'b.yaml'), customer(b, 'errors: {tolerance: none}\n'));
    const plan = await cli('integrations', 'plan', '-f', join(dir, 'a.yaml'), '-f', join(dir, 'b.yaml'));
    expect(plan.stdout).toContain(`~ update sink ${b}-sink [${b}]: 1 key differs`);
    expect(plan.stdout).toContain('    ~ errors.tolerance: all → none');
    expect(plan.stdout).toContain('Plan: 0 to create, 1 to update, 0 to delete, 2 unchanged.');
    const r = await cli('integrations', 'apply', '-f', join(dir, 'a.yaml'), '-f', join(dir, 'b.yaml'));
    expect(r.stdout).toContain(`${b}-sink: updated`);
    expect((await client.getConnectorConfig(`${b}-sink`))['errors.tolerance']).toBe('none');
  });

  it('a sink removed from a declared integration is deleted; other integrations are left alone', async () => {
    await writeFile(
      join(dir, 'a.yaml'),
      customer(
        a,
        'sink: null\nsinks:\n  docs: {connectorClass: org.apache.kafka.connect.file.FileStreamSinkConnector, topics: [x-' +
          run +
          '], config: {file: /tmp/x}}\n',
      ),
    );
    const r = await cli('integrations', 'apply', '-f', join(dir, 'a.yaml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`+ create sink ${a}-docs-sink`);
    expect(r.stdout).toContain(`- delete sink ${a}-sink [${a}]: integration ${a} no longer declares it`);
    expect(r.stdout).toContain(`left alone, owned by integrations not in these files: ${b}-sink`);
    const names = (await client.listConnectors()).filter((n) => n.includes(run)).sort();
    expect(names).toEqual([`${a}-docs-sink`, `${b}-sink`, `${src}-source`].sort());
  });

  it('delete removes an integration, and the shared source with the last one using it', async () => {
    const first = await cli('integrations', 'delete', a);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`${a}-docs-sink: deleted`);
    expect(first.stdout).toContain(`${src}-source (still used by ${b})`);
    expect(await client.listConnectors()).toContain(`${src}-source`);
    const second = await cli('integrations', 'delete', b);
    expect(second.stdout).toContain(`${b}-sink: deleted`);
    expect(second.stdout).toContain(`${src}-source: deleted`);
    expect((await client.listConnectors()).filter((n) => n.includes(run))).toEqual([]);
    const none = await cli('integrations', 'delete', b);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`No connector on the cluster belongs to integration "${b}"`);
  });
});
