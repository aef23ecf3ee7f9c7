import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDocuments } from '../../../integrations/documents.js';
import { expandDocuments } from '../../../integrations/expand.js';
import { formatProblem } from '../../../integrations/problems.js';
import { validateExpansion } from '../../../integrations/validate.js';
import { writeTree } from '../cli/integrations/write-files.js';

const HEAD = 'apiVersion: erpstream/v1\nkind: Integration\nmetadata: {name: acme}\n';
const SOURCE =
  'source: {name: erp, connection: {url: "${env:ERP_URL}", password: "${env:ERP_PW}"}, capture: {changeTable: erp.ct}, topicPrefix: erp, tables: [erp.d]}\n';

async function validate(yaml: string): Promise<{ problems: string[]; warnings: string[] }> {
  const dir = await writeTree({ 'customers/acme.yaml': yaml });
  const exp = expandDocuments(await loadDocuments([join(dir, 'customers')], dir));
  const r = validateExpansion(exp);
  return { problems: r.problems.map(formatProblem), warnings: r.warnings.map(formatProblem) };
}

describe('offline validation against the plugins', () => {
  it('accepts a complete integration whose secrets are ${env:…} placeholders (checked by the worker, not here)', async () => {
    const r = await validate(
      `${HEAD}${SOURCE}sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: "t"}}\n`,
    );
    expect(r).toEqual({ problems: [], warnings: [] });
  });

  it("maps the sink's cross-key checks to the field: a kafka destination without a topic", async () => {
    const r = await validate(
      `${HEAD}${SOURCE}sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka}}\n`,
    );
    expect(r.problems).toEqual([
      expect.stringMatching(/^customers\/acme\.yaml: sink\.destination\.topic: .*destination\.topic/),
    ]);
  });

  it('names missing required keys by their field, and keys given raw under config', async () => {
    const r = await validate(
      `${HEAD}${SOURCE}sink: {lookup: {table: erp.d}, destination: {type: kafka, topic: t}, config: {lookup.batch.size: 0}}\n`,
    );
    expect(r.problems).toEqual([
      expect.stringMatching(
        /^customers\/acme\.yaml: sink\.lookup\.keyColumns: Missing required configuration "lookup\.key\.columns"/,
      ),
      expect.stringMatching(/^customers\/acme\.yaml: sink\.config\.lookup\.batch\.size: .*lookup\.batch\.size/),
    ]);
  });

  it('checks the source against the ErpSourceConnector: an invalid topic prefix and a literal non-URL', async () => {
    const r = await validate(
      `${HEAD}source: {name: erp, connection: {url: "oracle://h"}, capture: {changeTable: erp.ct}, topicPrefix: "erp prod", tables: [erp.d]}\n` +
        'sink: {topics: [t], lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: t}}\n',
    );
    expect(r.problems).toEqual([
      expect.stringMatching(/^customers\/acme\.yaml: source\.connection\.url: .*postgresql:\/\//),
      expect.stringMatching(
        /^customers\/acme\.yaml: source\.topicPrefix: .*Invalid value erp prod for configuration topic\.prefix/,
      ),
    ]);
    // The URL's host is never echoed (it may carry a password).
    expect(r.problems[0]).not.toContain('oracle://h');
  });

  it('checks the generated transform chain: a bad CleanSchema case and an unknown extra transform', async () => {
    const r = await validate(
      `${HEAD}${SOURCE}clean: {case: kebab}\n` +
        'sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: t}, transforms: [{alias: x, type: NoSuchTransform}]}\n',
    );
    expect(r.problems).toEqual([
      expect.stringMatching(/^customers\/acme\.yaml: clean\.case: .*kebab/),
      expect.stringMatching(/^customers\/acme\.yaml: sink\.transforms\[0\]\.type: .*NoSuchTransform/),
    ]);
  });

  it('warns (does not fail) for a connector class this build does not ship', async () => {
    const r = await validate(
      `${HEAD}source: {name: dbz, connectorClass: io.debezium.connector.postgresql.PostgresConnector, config: {topic.prefix: x}}\n` +
        'sink: {topics: [t], lookup: {connection: {url: "postgresql://h/e"}, table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: t}}\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([
      'customers/acme.yaml: source.connectorClass: "io.debezium.connector.postgresql.PostgresConnector" is not a source connector of this erpstream build; only the cluster can check its keys',
    ]);
  });
});
