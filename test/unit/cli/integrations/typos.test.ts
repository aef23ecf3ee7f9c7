import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runIntegrationsCli } from './run-cli.js';
import { writeTree } from './write-files.js';

/** Typos in integration files: a wrong field is an error with "did you mean", a wrong connector key a warning. */

const FILE =
  'apiVersion: erpstream/v1\nkind: Integration\nmetadata: {name: acme}\n' +
  'source: {name: erp, connection: {url: "postgresql://h/e"}, capture: {changeTable: erp.ct}, topicPrefix: erp, tables: [erp.d],\n' +
  '  config: {tables.include.list: erp.x, poll.interval.ms: 100}}\n' +
  'sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: out}}\n';

describe('integration files with typos', () => {
  it('warns about a connector key the connector does not declare, at its field, with the key it meant', async () => {
    const dir = await writeTree({ 'acme.yaml': FILE });
    const r = await runIntegrationsCli(['integrations', 'validate', '-f', join(dir, 'acme.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `warning: ${join(dir, 'acme.yaml')}: source.config.tables.include.list: unknown key "tables.include.list": ` +
        'not a configuration of ErpSourceConnector or of the framework, so it is ignored; did you mean "table.include.list"?\n',
    );
  });

  it('--strict makes it an error (exit 2)', async () => {
    const dir = await writeTree({ 'acme.yaml': FILE });
    const r = await runIntegrationsCli(['integrations', 'validate', '--strict', '-f', join(dir, 'acme.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean "table.include.list"? (--strict)');
  });

  it('an unknown field of the file itself is an error that says what was meant', async () => {
    const dir = await writeTree({ 'acme.yaml': FILE.replace('destination: {type', 'destinaton: {type') });
    const r = await runIntegrationsCli(['integrations', 'validate', '-f', join(dir, 'acme.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sink\.destinaton: unknown field; expected one of: .*; did you mean "destination"\?/);
  });
});
