import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runIntegrationsCli } from './run-cli.js';
import { writeTree } from './write-files.js';
import { join } from 'node:path';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/integrations', import.meta.url));

describe('erpstream integrations (offline commands)', () => {
  it('validate lists the connectors the files expand to', async () => {
    const r = await runIntegrationsCli(['integrations', 'validate', '-f', EXAMPLES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^CONNECTOR +ROLE +INTEGRATIONS +FILE$/);
    expect(r.stdout).toMatch(/erp-source +source +\[acme, globex\]/);
    expect(r.stdout).toMatch(/acme-documents-sink +sink +\[acme\] +.*acme\.yaml/);
    // Aligned: every row's role starts in the same column as the header's.
    const roleAt = lines[0]!.indexOf('ROLE');
    for (const l of lines.slice(1, 10)) expect(l.slice(roleAt, roleAt + 4)).toMatch(/^(sour|sink)/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('2 integrations valid (9 connectors).');
  });

  it('validate -o json prints the exact connector configs', async () => {
    const r = await runIntegrationsCli(['-o', 'json', 'integrations', 'validate', '-f', EXAMPLES]);
    const out = JSON.parse(r.stdout) as Array<{ name: string; config: Record<string, string> }>;
    expect(out.map((c) => c.name)).toContain('globex-phones-sink');
    expect(out[0]!.config['connection.password']).toBe('${env:ERP_DB_PASSWORD}');
  });

  it('validate fails with exit 2 naming file and field', async () => {
    const dir = await writeTree({
      'customers/acme.yaml':
        'apiVersion: erpstream/v1\nkind: Integration\nmetadata: {name: acme}\n' +
        'source: {name: erp, connection: {url: "postgresql://h/e"}, capture: {changeTable: erp.ct}, topicPrefix: erp, tables: [erp.d]}\n' +
        'sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka}}\n',
    });
    const r = await runIntegrationsCli(['integrations', 'validate', '-f', join(dir, 'customers', 'acme.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*customers\/acme\.yaml: sink\.destination\.topic: /m);
    expect(r.stderr).toContain('hint: Fix the fields named above');
  });

  it('validate without -f, or with only a template, says what to pass', async () => {
    const none = await runIntegrationsCli(['integrations', 'validate']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('No integration file given.');
    const tpl = await runIntegrationsCli(['integrations', 'validate', '-f', join(EXAMPLES, 'base.yaml')]);
    expect(tpl.code).toBe(2);
    expect(tpl.stderr).toContain('No kind: Integration in');
  });

  it('schema prints the JSON Schema', async () => {
    const r = await runIntegrationsCli(['integrations', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { title: string; properties: Record<string, unknown> };
    expect(schema.title).toBe('erpstream integration file');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['source', 'sink', 'sinks', 'clean', 'errors']),
    );
  });

  it('plan against an unreachable cluster exits 3', async () => {
    const r = await runIntegrationsCli(['integrations', 'plan', '-f', EXAMPLES, '--connect-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error:');
  });
});
