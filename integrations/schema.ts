import { type ConfigDef, NO_DEFAULT, configDefToJsonSchema } from '../runtime/api/index.js';
import type { PluginRegistry } from '../runtime/plugins/registry.js';
import { DEBEZIUM_SOURCE_SCHEMA } from './debezium.js';
import { API_VERSION } from './expand.js';
import {
  CHAIN_SECTIONS,
  DEPENDENCY_FIELDS,
  ERP_SOURCE_CLASS,
  ERROR_FIELDS,
  type Field,
  type FieldSpec,
  LOOKUP_SINK_CLASS,
  SINK_FIELDS,
  SOURCE_FIELDS,
  isGroup,
} from './fields.js';
import { integrationRegistry } from './validate.js';

/**
 * The JSON Schema (draft 2020-12) of integration files, for editors (`# yaml-language-server: $schema=…`)
 * and CI. Field descriptions and defaults come from the plugins' ConfigDefs (the key each field becomes),
 * so the schema never drifts from what the connectors and transforms accept.
 */

type Schema = Record<string, unknown>;

function typeSchema(f: Field): Schema {
  switch (f.type) {
    case 'string':
      return f.oneOf ? { type: 'string', enum: [...f.oneOf] } : { type: 'string' };
    case 'integer':
      return { type: ['integer', 'string'] };
    case 'boolean':
      return { type: ['boolean', 'string'] };
    case 'list':
      return { type: ['array', 'string'], items: { type: 'string' } };
    case 'pairs':
      return { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } };
  }
}

function fieldsSchema(specs: readonly FieldSpec[], def: ConfigDef | undefined, keyPrefix = ''): Record<string, Schema> {
  const props: Record<string, Schema> = {};
  for (const s of specs) {
    if (isGroup(s)) {
      props[s.f] = {
        type: 'object',
        description: s.doc,
        properties: fieldsSchema(s.fields, def, keyPrefix),
        additionalProperties: false,
      };
      continue;
    }
    const key = def?.key(keyPrefix + s.key) ?? def?.key(s.key);
    const schema: Schema = {
      ...typeSchema(s),
      description: `${key?.documentation ?? s.doc ?? ''} (config key: ${keyPrefix}${s.key})`.trim(),
    };
    if (key && key.defaultValue !== NO_DEFAULT && key.defaultValue !== null && key.type !== 'PASSWORD') {
      schema.default = Array.isArray(key.defaultValue) ? key.defaultValue.join(',') : key.defaultValue;
    }
    if (key?.type === 'PASSWORD') schema.writeOnly = true;
    props[s.f] = schema;
  }
  return props;
}

/** Raw connector keys: every key the plugin defines, none required (the structured fields may set them). */
function rawConfigSchema(def: ConfigDef | undefined, what: string): Schema {
  if (!def) return { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } };
  const { $schema: _s, required: _r, ...rest } = configDefToJsonSchema(def, `${what} connector keys`);
  return { ...rest, description: `Any further ${what} connector keys, as Kafka Connect config (passed through).` };
}

export function integrationJsonSchema(registry: PluginRegistry = integrationRegistry()): Schema {
  const sourceDef = registry.find('source', ERP_SOURCE_CLASS)?.config;
  const sinkDef = registry.find('sink', LOOKUP_SINK_CLASS)?.config;
  const chainDefs: Record<string, Schema> = {};
  for (const c of CHAIN_SECTIONS) {
    const def = registry.find('transformation', c.className)?.config;
    const extra: Record<string, Schema> =
      c.section === 'domain'
        ? {
            id: { type: 'string', description: "The customer's domain id (default: metadata.name)." },
            codes: {
              type: ['array', 'string'],
              items: { type: 'string' },
              description: 'Codes in `field` that belong to this customer; records with other codes are dropped.',
            },
          }
        : {};
    chainDefs[c.section] = {
      type: 'object',
      description:
        `${c.className}, generated into each sink's transform chain (transforms.${c.alias}.*); for a lookup sink, ` +
        (c.section === 'domain'
          ? 'into the chain that routes the consumed records by customer.'
          : c.section === 'clean'
            ? 'also into its delivery chain (delivery.transforms.clean.*), which shapes what the customer receives.'
            : `into its delivery chain instead (delivery.transforms.${c.alias}.*), which shapes what the customer receives.`),
      properties: { ...fieldsSchema(c.fields, def), ...extra },
      additionalProperties: false,
    };
  }
  const chainRefs = Object.fromEntries(CHAIN_SECTIONS.map((c) => [c.section, { $ref: `#/$defs/${c.section}` }]));
  const name = { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' };
  const sourceProps = {
    connectorClass: {
      type: 'string',
      default: ERP_SOURCE_CLASS,
      description: 'Connector class (default: the ErpSourceConnector).',
    },
    tables: {
      type: ['array', 'string'],
      items: { type: 'string' },
      description: 'Captured tables as schema.table (become table.include.list, matched literally).',
    },
    ...fieldsSchema(SOURCE_FIELDS, sourceDef),
    config: rawConfigSchema(sourceDef, 'source'),
    ...DEBEZIUM_SOURCE_SCHEMA,
  };
  const sink = {
    type: 'object',
    additionalProperties: false,
    properties: {
      connectorClass: {
        type: 'string',
        default: LOOKUP_SINK_CLASS,
        description: 'Connector class (default: the LookupSinkConnector).',
      },
      topics: { type: ['array', 'string'], items: { type: 'string' }, description: 'Topics to consume.' },
      tables: {
        type: ['array', 'string'],
        items: { type: 'string' },
        description:
          'Source tables to consume (topics <topicPrefix>.<schema>.<table>); default: all the source captures.',
      },
      ...fieldsSchema(SINK_FIELDS, sinkDef),
      dependencies: {
        type: 'object',
        description: 'Checks a looked-up row must pass before delivery, by name (dependencies.<name>.*).',
        additionalProperties: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: fieldsSchema(DEPENDENCY_FIELDS, undefined),
        },
      },
      transforms: {
        type: 'array',
        description:
          'Further transforms appended to the generated chain: for a lookup sink, its delivery chain ' +
          '(delivery.transforms, what the customer receives); for another connector class, its transforms.',
        items: {
          type: 'object',
          required: ['alias', 'type'],
          additionalProperties: false,
          properties: {
            alias: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
            type: { type: 'string' },
            config: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
          },
        },
      },
      ...chainRefs,
      config: rawConfigSchema(sinkDef, 'sink'),
    },
  };
  const metadata = {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { ...name, description: 'The customer (integration) name; sinks are named <name>-sink.' },
      description: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://erpstream.dev/schemas/integration-v1.json',
    title: 'erpstream integration file',
    description:
      'One customer: its ERP source (or a shared kind: Source), cleaning, code translation, correlation and domain ' +
      'rules, and the lookup sink. `extends: ./base.yaml` overlays a base template (maps merge, lists replace, null removes). ' +
      '${customer} in sink values is replaced by metadata.name; ${env:VAR} is resolved by the worker, never by the CLI.',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { const: API_VERSION },
      kind: { enum: ['Integration', 'IntegrationTemplate', 'Source'] },
      extends: { type: 'string', description: 'A base file, relative to this one.' },
      metadata,
      source: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { ...name, description: 'Source name; customers with the same source share <name>-source.' },
          ...sourceProps,
        },
      },
      sourceRef: { ...name, description: 'The metadata.name of a kind: Source file.' },
      spec: {
        type: 'object',
        additionalProperties: false,
        description: 'kind: Source only: the shared source.',
        properties: sourceProps,
      },
      ...chainRefs,
      sink: { $ref: '#/$defs/sink' },
      sinks: {
        type: 'object',
        description: 'Several sinks, <name>-<key>-sink each.',
        additionalProperties: { $ref: '#/$defs/sink' },
      },
      errors: {
        type: 'object',
        additionalProperties: false,
        description: "Kafka Connect's error handling for the sinks.",
        properties: fieldsSchema(ERROR_FIELDS, undefined),
      },
    },
    additionalProperties: false,
    $defs: { sink, ...chainDefs },
  };
}
