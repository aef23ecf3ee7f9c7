import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDocuments } from '../../../integrations/documents.js';
import { expandDocuments } from '../../../integrations/expand.js';
import { writeTree } from '../cli/integrations/write-files.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/integrations', import.meta.url));
const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

const formatOf = (config: Record<string, string>) =>
  Object.fromEntries(Object.entries(config).filter(([k]) => /^(key|value|header)\.converter/.test(k)));

describe('the topic format travels with the generated connectors, whatever the worker defaults to', () => {
  it('pins JSON with schemas on the ERP source and the same on every sink that reads it', async () => {
    const { connectors } = expandDocuments(await loadDocuments([EXAMPLES]));
    const source = connectors.find((c) => c.role === 'source')!;
    expect(formatOf(source.config)).toEqual({
      'key.converter': JSON_CONVERTER,
      'key.converter.schemas.enable': 'true',
      'value.converter': JSON_CONVERTER,
      'value.converter.schemas.enable': 'true',
    });
    const sinks = connectors.filter((c) => c.role === 'sink');
    expect(sinks.length).toBeGreaterThan(1);
    for (const s of sinks) expect(formatOf(s.config)).toEqual(formatOf(source.config));
  });

  it("a format the source's file sets is what its sinks read with; a sink's own setting wins", async () => {
    const avro = 'io.confluent.connect.avro.AvroConverter';
    const dir = await writeTree({
      'acme.yaml':
        'apiVersion: erpstream/v1\nkind: Integration\nmetadata: {name: acme}\n' +
        'source: {name: erp, connection: {url: "postgresql://h/e"}, capture: {changeTable: erp.ct}, topicPrefix: erp, tables: [erp.d],\n' +
        `  config: {key.converter: ${avro}, key.converter.schema.registry.url: "http://r", value.converter: ${avro}, value.converter.schema.registry.url: "http://r"}}\n` +
        'sinks:\n' +
        '  d: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: out}}\n' +
        `  e: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: out2}, config: {value.converter: ${JSON_CONVERTER}}}\n`,
    });
    const { connectors } = expandDocuments(await loadDocuments([join(dir, 'acme.yaml')]));
    const byName = new Map(connectors.map((c) => [c.name, c.config]));
    expect(formatOf(byName.get('acme-d-sink')!)).toEqual(formatOf(byName.get('erp-source')!));
    expect(byName.get('erp-source')!['value.converter']).toBe(avro);
    expect(formatOf(byName.get('acme-e-sink')!)).toEqual({ 'value.converter': JSON_CONVERTER });
  });
});
