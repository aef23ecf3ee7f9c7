import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { erpSourceConfigDef } from '../../../connectors/erp-source/config.js';
import { lookupSinkConfigDef } from '../../../connectors/lookup-sink/config.js';
import { type Json, loadDocument } from '../../../integrations/documents.js';
import { integrationJsonSchema } from '../../../integrations/schema.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
type Schema = Record<string, unknown>;

/** Follows $ref and reports every key of `value` the schema does not declare (additionalProperties: false). */
function undeclared(schema: Schema, root: Schema, value: Json, path = ''): string[] {
  if (typeof schema.$ref === 'string')
    return undeclared((root.$defs as Record<string, Schema>)[schema.$ref.split('/').pop()!]!, root, value, path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const extra = schema.additionalProperties;
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (props[k]) out.push(...undeclared(props[k], root, v, p));
    else if (extra === false) out.push(p);
    else if (typeof extra === 'object' && extra !== null) out.push(...undeclared(extra as Schema, root, v, p));
  }
  return out;
}

describe('integration file JSON Schema', () => {
  const schema = integrationJsonSchema();

  it('takes field descriptions and defaults from the plugins’ ConfigDefs', () => {
    const source = (schema.properties as Record<string, Schema>).source!.properties as Record<string, Schema>;
    expect(source.topicPrefix!.description).toBe(
      `${erpSourceConfigDef.key('topic.prefix')!.documentation} (config key: topic.prefix)`,
    );
    expect((source.capture!.properties as Record<string, Schema>).mode!.default).toBe('change_table');
    const sink = (schema.$defs as Record<string, Schema>).sink!.properties as Record<string, Schema>;
    const lookup = sink.lookup!.properties as Record<string, Schema>;
    expect(lookup.batchSize!.description).toContain(lookupSinkConfigDef.key('lookup.batch.size')!.documentation);
    expect(lookup.batchSize!.default).toBe(500);
    expect((lookup.connection!.properties as Record<string, Schema>).password!.writeOnly).toBe(true);
    // Raw `config:` accepts every key the plugin defines.
    expect(Object.keys((sink.config!.properties as Record<string, Schema>) ?? {})).toEqual(lookupSinkConfigDef.names());
  });

  it('declares every field the example files use (and would flag a typo)', async () => {
    for (const f of ['base.yaml', 'acme.yaml', 'globex.yaml']) {
      const doc = await loadDocument(join(REPO, 'examples/integrations', f), REPO);
      expect(undeclared(schema, schema, doc.body), f).toEqual([]);
    }
    expect(undeclared(schema, schema, { sink: { destinaton: {} } } as Json)).toEqual(['sink.destinaton']);
  });
});
