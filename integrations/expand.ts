import type { LoadedDocument } from './documents.js';
import { DELIVERY_PREFIX } from '../connectors/lookup-sink/public.js';
import {
  CHAIN_SECTIONS,
  type ChainSection,
  DEPENDENCY_FIELDS,
  DEPENDENCY_TOPIC_FIELDS,
  ERP_SOURCE_CLASS,
  ERROR_FIELDS,
  type FieldSpec,
  LABEL_INTEGRATION,
  LABEL_MANAGED_BY,
  LABEL_SOURCE,
  LOOKUP_SINK_CLASS,
  MANAGED_BY,
  SINK_FIELDS,
  SOURCE_FIELDS,
  isGroup,
} from './fields.js';
import {
  DEBEZIUM_SOURCE_KEYS,
  UNWRAP_ALIAS,
  UNWRAP_CLASS,
  SOURCE_KINDS,
  TOPIC_FORMAT,
  isFormatKey,
  writeDebeziumSource,
} from './debezium.js';
import { ProblemList } from './problems.js';
import { Section } from './reader.js';
import { pinTopicFormats } from './topic-format.js';

/**
 * Expansion: integration files → Kafka Connect connector configs. One source connector per distinct source
 * (customers on the same ERP share it; named `<source>-source`), one sink per customer (`<customer>-sink`,
 * or `<customer>-<name>-sink` for each entry of `sinks:`), whose transform chains are generated from the
 * clean / translate / correlation / domain sections (see chainLayout).
 */

export const API_VERSION = 'erpstream/v1';
export const KINDS = ['Integration', 'IntegrationTemplate', 'Source'] as const;
const NAME_PATTERN: [RegExp, string] = [
  /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
  'use lower-case letters, digits and "-" (it becomes part of connector and topic names)',
];
const INTEGRATION_KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'source',
  'sourceRef',
  'clean',
  'translate',
  'correlation',
  'domain',
  'sink',
  'sinks',
  'errors',
];
const SOURCE_KEYS = [
  'name',
  'connectorClass',
  'tables',
  'config',
  ...SOURCE_FIELDS.map((s) => s.f),
  ...DEBEZIUM_SOURCE_KEYS,
];
const CHAIN_KEYS = CHAIN_SECTIONS.map((c) => c.section);
const SINK_KEYS = [
  'connectorClass',
  'topics',
  'tables',
  'dependencies',
  'transforms',
  'config',
  ...CHAIN_KEYS,
  ...SINK_FIELDS.map((s) => s.f),
];
const CUSTOMER_TOKEN = '${customer}';

/**
 * Which chain sections go where, in order. A lookup sink reads only ids and versions from the consumed records
 * and delivers the row it looks up: its own chain (`transforms`) cleans names and routes by customer, and its
 * delivery chain (`delivery.transforms`) shapes the row the customer receives (clean, translate, correlate).
 * Any other sink delivers the consumed record, so everything runs in its one chain, routing before translation.
 */
function chainLayout(lookupSink: boolean): Array<['input' | 'delivery', Array<ChainSection['section']>]> {
  return lookupSink
    ? [
        ['input', ['clean', 'domain']],
        ['delivery', ['clean', 'translate', 'correlation']],
      ]
    : [['input', ['clean', 'domain', 'translate', 'correlation']]];
}

export type ConnectorRole = 'source' | 'sink';

export interface GeneratedConnector {
  name: string;
  role: ConnectorRole;
  /** The file that declares it (for a shared source: the first one). */
  file: string;
  /** Sink: its integration. Source: every integration that uses it. */
  integrations: string[];
  sourceName: string;
  /** The section it was read from (`source`, `spec`, `sink`, `sinks.documents`), for error paths. */
  path: string;
  /** Connect config (string values, `name` included), exactly as PUT to the cluster. */
  config: Record<string, string>;
  /** Config key → the file field it came from, so plugin errors point at the field. */
  origins: Record<string, string>;
  /**
   * The Connect cluster it belongs on (a context name or URL), when not the one `plan`/`apply` target:
   * a Debezium source runs on the customer's Connect cluster (`source.cluster`).
   */
  cluster?: string;
}

export interface Expansion {
  connectors: GeneratedConnector[];
  /** Integration names declared in the files. */
  integrations: string[];
}

/** A config map under construction that remembers which field wrote each key. */
class ConfigOut {
  readonly config: Record<string, string> = {};
  readonly origins: Record<string, string> = {};
  constructor(
    private readonly section: Section,
    private readonly customer: string | null,
  ) {}

  set(key: string, value: string, path: string): void {
    const existing = this.origins[key];
    if (existing !== undefined && existing !== path) {
      this.section.problems.add(this.section.file, path, `sets "${key}", which ${existing} already sets; keep one`);
      return;
    }
    this.config[key] = this.customer === null ? value : value.split(CUSTOMER_TOKEN).join(this.customer);
    this.origins[key] = path;
  }
}

/** The predicate that keeps a sink's domain stage off its dependency topics (registrations carry no code). */
const DEPENDENCY_TOPICS_PREDICATE = 'dependencyTopics';

function writeFields(s: Section, specs: readonly FieldSpec[], out: ConfigOut, keyPrefix = ''): void {
  for (const spec of specs) {
    if (isGroup(spec)) {
      const allowed = spec.fields.map((f) => f.f);
      const sub = s.section(spec.f, allowed);
      if (sub) writeFields(sub, spec.fields, out, keyPrefix);
      continue;
    }
    const key = keyPrefix + spec.key;
    const path = s.at(spec.f);
    let value: string | undefined;
    switch (spec.type) {
      case 'string':
        value = s.str(spec.f, spec.oneOf ? { oneOf: spec.oneOf } : {});
        break;
      case 'integer':
        value = s.int(spec.f)?.toString();
        break;
      case 'boolean':
        value = s.bool(spec.f)?.toString();
        break;
      case 'list':
        value = s.list(spec.f)?.join(',');
        break;
      case 'pairs':
        value = s
          .map(spec.f)
          ?.map(([k, v]) => `${k}:${v}`)
          .join(',');
        break;
    }
    if (value !== undefined) out.set(key, value, path);
  }
}

function writeRawConfig(s: Section, out: ConfigOut): void {
  for (const [k, v] of s.map('config') ?? []) out.set(k, v, `${s.at('config')}.${k}`);
}

/** Debezium-style include lists are regular expressions; table names are matched literally. */
function tableRegex(table: string): string {
  return table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface SourceDecl {
  name: string;
  section: Section;
  connector: GeneratedConnector;
  topicPrefix: string | undefined;
  /** The connection keys, reused as the lookup sink's default origin connection. */
  connection: Array<[string, string, string]>;
  /** Debezium's change events: sinks unwrap them to rows first. */
  debezium?: boolean;
}

function readDebezium(s: Section, name: string): SourceDecl {
  const out = new ConfigOut(s, null);
  const d = writeDebeziumSource(s, name, (k, v, p) => out.set(k, v, p));
  writeRawConfig(s, out);
  const userFormat = Object.keys(out.config).some(isFormatKey);
  if (!userFormat) for (const [k, v] of Object.entries(TOPIC_FORMAT)) out.set(k, v, s.path);
  const connectorName = `${name}-source`;
  out.set('name', connectorName, s.path);
  out.set(LABEL_MANAGED_BY, MANAGED_BY, s.path);
  out.set(LABEL_SOURCE, name, s.path);
  return {
    name,
    section: s,
    topicPrefix: d.topicPrefix,
    connection: d.connection,
    debezium: true,
    connector: {
      name: connectorName,
      role: 'source',
      file: s.file,
      integrations: [],
      sourceName: name,
      path: s.path,
      config: out.config,
      origins: out.origins,
      ...(d.cluster !== undefined ? { cluster: d.cluster } : {}),
    },
  };
}

function readSource(s: Section, name: string): SourceDecl {
  if (s.has('kind') && s.str('kind', { oneOf: SOURCE_KINDS }) === 'debezium') return readDebezium(s, name);
  for (const k of DEBEZIUM_SOURCE_KEYS.filter((f) => f !== 'kind'))
    if (s.has(k)) s.problem(k, 'only for a source of kind: debezium');
  const out = new ConfigOut(s, null);
  const cls = s.str('connectorClass') ?? ERP_SOURCE_CLASS;
  out.set('connector.class', cls, s.has('connectorClass') ? s.at('connectorClass') : s.path);
  writeFields(s, SOURCE_FIELDS, out);
  const tables = s.list('tables');
  if (tables && tables.length > 0) out.set('table.include.list', tables.map(tableRegex).join(','), s.at('tables'));
  writeRawConfig(s, out);
  const connectorName = `${name}-source`;
  out.set('name', connectorName, s.path);
  out.set(LABEL_MANAGED_BY, MANAGED_BY, s.path);
  out.set(LABEL_SOURCE, name, s.path);
  const connection = ['url', 'user', 'password']
    .map((k): [string, string, string] | undefined => {
      const key = `connection.${k}`;
      const v = out.config[key];
      return v === undefined ? undefined : [k, v, out.origins[key]!];
    })
    .filter((x): x is [string, string, string] => x !== undefined);
  return {
    name,
    section: s,
    topicPrefix: out.config['topic.prefix'],
    connection,
    connector: {
      name: connectorName,
      role: 'source',
      file: s.file,
      integrations: [],
      sourceName: name,
      path: s.path,
      config: out.config,
      origins: out.origins,
    },
  };
}

function readSink(
  root: Section,
  s: Section,
  customer: string,
  connectorName: string,
  source: SourceDecl | undefined,
): GeneratedConnector {
  const out = new ConfigOut(s, customer);
  const cls = s.str('connectorClass') ?? LOOKUP_SINK_CLASS;
  out.set('connector.class', cls, s.has('connectorClass') ? s.at('connectorClass') : s.path);

  const deps = s.entries(
    'dependencies',
    DEPENDENCY_FIELDS.map((f) => f.f),
  );
  // Topics a dependency follows (registrations) are consumed too: their records re-decide entities.
  const depTopics = new Map<string, string[]>();
  for (const [n, d] of deps) {
    const named = [...(d.list('topics') ?? [])];
    const tables = d.list('tables');
    if (tables && !source?.topicPrefix) d.problem('tables', 'needs source.topicPrefix to name the topics; give topics');
    else if (tables) named.push(...tables.map((t) => `${source!.topicPrefix}.${t}`));
    if (named.length > 0) depTopics.set(n, named);
  }
  const withDeps = (list: readonly string[]) => [...new Set([...list, ...[...depTopics.values()].flat()])].join(',');

  const topics = s.list('topics');
  const tables = s.list('tables');
  if (topics && tables) s.problem('tables', 'give either topics or tables, not both');
  else if (topics) out.set('topics', withDeps(topics), s.at('topics'));
  else if (tables) {
    if (!source?.topicPrefix)
      s.problem('tables', 'needs source.topicPrefix to name the topics; give sink.topics instead');
    else out.set('topics', withDeps(tables.map((t) => `${source.topicPrefix}.${t}`)), s.at('tables'));
  } else if (source?.connector.config['table.include.list'] && source.topicPrefix) {
    // Default: every table the source captures.
    const all = source.section.list('tables') ?? [];
    out.set('topics', withDeps(all.map((t) => `${source.topicPrefix}.${t}`)), source.section.at('tables'));
  } else if (source) {
    // (Without a source the problem is already reported; a second one would be noise.)
    s.problem(null, 'declare the topics to consume: sink.topics or sink.tables');
  }

  writeFields(s, SINK_FIELDS, out);
  if (cls === LOOKUP_SINK_CLASS && source && out.config['lookup.connection.url'] === undefined) {
    for (const [k, v, origin] of source.connection) out.set(`lookup.connection.${k}`, v, origin);
  }

  if (deps.length > 0) {
    out.set('dependencies', deps.map(([n]) => n).join(','), s.at('dependencies'));
    const own = DEPENDENCY_FIELDS.filter((f) => !(DEPENDENCY_TOPIC_FIELDS as readonly string[]).includes(f.f));
    for (const [n, d] of deps) {
      if (!d.has('type')) d.problem('type', 'required (ledger, sql or field)');
      writeFields(d, own, out, `dependencies.${n}.`);
      const named = depTopics.get(n);
      if (named) out.set(`dependencies.${n}.topic`, named.join(','), d.at(d.has('topics') ? 'topics' : 'tables'));
    }
  }

  // Each chain section is read once; a section may feed both chains (clean does, for a lookup sink).
  const stages = new Map<ChainSection['section'], { chain: ChainSection; keys: ConfigOut }>();
  for (const chain of CHAIN_SECTIONS) {
    const allowed = [...chain.fields.map((f) => f.f), ...(chain.section === 'domain' ? ['id', 'codes'] : [])];
    // A sink's own section (e.g. translate only for shipments) replaces the integration-wide one.
    const sec = s.section(chain.section, allowed) ?? root.section(chain.section, allowed);
    if (!sec) continue;
    if (chain.section === 'domain' && !sec.has('field')) {
      // Only the customer's domain id: nothing to route on.
      if (sec.has('codes')) sec.problem('field', 'required with codes: the record field holding the customer code');
      continue;
    }
    const keys = new ConfigOut(sec, customer);
    keys.set('type', chain.className, sec.path);
    if (chain.section === 'domain') {
      const id = sec.str('id', { pattern: NAME_PATTERN }) ?? customer;
      const codes = sec.list('codes');
      if (codes && sec.has('mapping')) sec.problem('codes', 'give either codes or mapping, not both');
      else if (codes) {
        keys.set('domain.mapping', codes.map((c) => `${c}:${id}`).join(','), sec.at('codes'));
        // Records with other customers' codes are not this customer's: drop them (unless told otherwise).
        if (!sec.has('onMissing')) keys.set('on.missing', 'drop', sec.at('codes'));
      }
    }
    writeFields(sec, chain.fields, keys);
    if (chain.section === 'domain' && depTopics.size > 0) {
      // Registration records name no customer code: routing them would drop them. The domain stage skips them.
      keys.set('predicate', DEPENDENCY_TOPICS_PREDICATE, s.at('dependencies'));
      keys.set('negate', 'true', s.at('dependencies'));
    }
    stages.set(chain.section, { chain, keys });
  }

  const lookupSink = cls === LOOKUP_SINK_CLASS;
  const chains = { input: [] as string[], delivery: [] as string[] };
  const writeStage = (chain: 'input' | 'delivery', alias: string, keys: ConfigOut): void => {
    const root = chain === 'input' ? 'transforms' : `${DELIVERY_PREFIX}transforms`;
    chains[chain].push(alias);
    for (const [k, v] of Object.entries(keys.config)) out.set(`${root}.${alias}.${k}`, v, keys.origins[k]!);
  };
  if (source?.debezium && lookupSink) {
    // Debezium writes change envelopes; the chain and the lookup sink work on rows.
    chains.input.push(UNWRAP_ALIAS);
    out.set(`transforms.${UNWRAP_ALIAS}.type`, UNWRAP_CLASS, source.section.path);
    out.set(`transforms.${UNWRAP_ALIAS}.delete.tombstone.handling.mode`, 'rewrite', source.section.path);
  }
  // Routing by customer comes before code translation, so another customer's poison row is dropped by this
  // sink's routing before a translation could fail on it (and dead-letter it here too).
  for (const [chain, sections] of chainLayout(lookupSink)) {
    for (const section of sections) {
      const stage = stages.get(section);
      if (stage) writeStage(chain, stage.chain.alias, stage.keys);
    }
  }
  // Further transforms shape what the customer receives: a lookup sink delivers the looked-up row, so they join
  // its delivery chain; another connector class delivers the consumed record, so they join its own chain.
  const extra = lookupSink ? 'delivery' : 'input';
  for (const t of s.items('transforms', ['alias', 'type', 'config'])) {
    const alias = t.str('alias', { required: true, pattern: [/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-"'] });
    const type = t.str('type', { required: true });
    if (!alias || !type) continue;
    if (chains[extra].includes(alias)) {
      t.problem('alias', `"${alias}" is already used in the chain (${chains[extra].join(', ')})`);
    }
    const keys = new ConfigOut(t, customer);
    keys.set('type', type, t.at('type'));
    for (const [k, v] of t.map('config') ?? []) keys.set(k, v, `${t.at('config')}.${k}`);
    writeStage(extra, alias, keys);
  }
  if (chains.input.length > 0) out.set('transforms', chains.input.join(','), s.path);
  if (stages.has('domain') && depTopics.size > 0) {
    const p = `predicates.${DEPENDENCY_TOPICS_PREDICATE}`;
    out.set('predicates', DEPENDENCY_TOPICS_PREDICATE, s.at('dependencies'));
    out.set(`${p}.type`, 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches', s.at('dependencies'));
    out.set(
      `${p}.pattern`,
      [...new Set([...depTopics.values()].flat())].map(tableRegex).join('|'),
      s.at('dependencies'),
    );
  }
  if (chains.delivery.length > 0) out.set(`${DELIVERY_PREFIX}transforms`, chains.delivery.join(','), s.path);

  const errors = root.section(
    'errors',
    ERROR_FIELDS.map((f) => f.f),
  );
  if (errors) writeFields(errors, ERROR_FIELDS, out);
  writeRawConfig(s, out);
  if (source?.debezium && !Object.keys(out.config).some(isFormatKey)) {
    // Read Debezium's topics in the format its connector writes them.
    const src = source.connector;
    for (const k of Object.keys(src.config).filter(isFormatKey)) out.set(k, src.config[k]!, src.origins[k]!);
  }

  out.set('name', connectorName, s.path);
  out.set(LABEL_MANAGED_BY, MANAGED_BY, s.path);
  out.set(LABEL_INTEGRATION, customer, root.at('metadata'));
  if (source) out.set(LABEL_SOURCE, source.name, root.has('sourceRef') ? root.at('sourceRef') : root.at('source'));
  return {
    name: connectorName,
    role: 'sink',
    file: s.file,
    integrations: [customer],
    sourceName: source?.name ?? '',
    path: s.path,
    config: out.config,
    origins: out.origins,
  };
}

function header(doc: LoadedDocument, problems: ProblemList): Section {
  const root = new Section(doc.file, '', doc.body, problems);
  const api = root.str('apiVersion', { required: true });
  if (api !== undefined && api !== API_VERSION)
    root.problem('apiVersion', `"${api}" is not supported; use ${API_VERSION}`);
  const kind = root.str('kind', { required: true });
  if (kind !== undefined && !(KINDS as readonly string[]).includes(kind)) {
    root.problem('kind', `"${kind}" is not one of: ${KINDS.join(', ')}`);
  }
  return root;
}

/** Expands every Integration (templates are only used through `extends`). Throws all problems at once. */
export function expandDocuments(docs: readonly LoadedDocument[]): Expansion {
  const problems = new ProblemList();
  const sourceDocs = new Map<string, { doc: LoadedDocument; root: Section }>();
  for (const doc of docs.filter((d) => d.kind === 'Source')) {
    const root = header(doc, problems);
    new Section(doc.file, '', doc.body, problems, ['apiVersion', 'kind', 'metadata', 'spec']);
    const name = root.section('metadata', ['name', 'labels', 'description'], { required: true })?.str('name', {
      required: true,
      pattern: NAME_PATTERN,
    });
    if (!name) continue;
    if (sourceDocs.has(name))
      root.problems.add(
        root.file,
        'metadata.name',
        `source "${name}" is also declared in ${sourceDocs.get(name)!.doc.file}`,
      );
    else sourceDocs.set(name, { doc, root });
  }

  const sources = new Map<string, SourceDecl>();
  const connectors: GeneratedConnector[] = [];
  const integrations: string[] = [];
  const declaredIn = new Map<string, string>();

  const useSource = (decl: SourceDecl, customer: string): SourceDecl => {
    const existing = sources.get(decl.name);
    if (!existing) {
      sources.set(decl.name, decl);
      connectors.push(decl.connector);
      decl.connector.integrations.push(customer);
      return decl;
    }
    if (existing.connector !== decl.connector) {
      const a = existing.connector.config;
      const b = decl.connector.config;
      const diff = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().find((k) => a[k] !== b[k]);
      if (diff !== undefined) {
        decl.section.problem(
          null,
          `source "${decl.name}" is declared differently in ${existing.connector.file} (key ${diff}); ` +
            'customers sharing a source must declare it identically (put it in the base file or a kind: Source file)',
        );
      }
    }
    if (!existing.connector.integrations.includes(customer)) existing.connector.integrations.push(customer);
    return existing;
  };

  for (const doc of docs) {
    if (doc.kind !== 'Integration') {
      if (doc.kind !== 'Source' && doc.kind !== 'IntegrationTemplate') header(doc, problems);
      continue;
    }
    const root = header(doc, problems);
    new Section(doc.file, '', doc.body, problems, INTEGRATION_KEYS);
    const meta = root.section('metadata', ['name', 'labels', 'description'], { required: true });
    const customer = meta?.str('name', { required: true, pattern: NAME_PATTERN });
    if (!customer) continue;
    if (declaredIn.has(customer)) {
      root.problems.add(
        root.file,
        'metadata.name',
        `integration "${customer}" is also declared in ${declaredIn.get(customer)}`,
      );
      continue;
    }
    declaredIn.set(customer, doc.file);
    integrations.push(customer);

    let source: SourceDecl | undefined;
    if (root.has('source') && root.has('sourceRef'))
      root.problem('sourceRef', 'give either source or sourceRef, not both');
    else if (root.has('sourceRef')) {
      const ref = root.str('sourceRef');
      const found = ref === undefined ? undefined : sourceDocs.get(ref);
      if (ref !== undefined && !found) {
        root.problem(
          'sourceRef',
          `no kind: Source named "${ref}" in the files given (pass its file or directory with -f)`,
        );
      } else if (found) {
        const spec = found.root.section(
          'spec',
          SOURCE_KEYS.filter((k) => k !== 'name'),
          { required: true },
        );
        if (spec) source = useSource(readSource(spec, ref!), customer);
      }
    } else {
      const s = root.section('source', SOURCE_KEYS);
      if (!s) root.problem(null, 'declare source (the ERP to capture) or sourceRef (a shared kind: Source)');
      else {
        const name = s.str('name', { pattern: NAME_PATTERN }) ?? customer;
        source = useSource(readSource(s, name), customer);
      }
    }

    const single = root.section('sink', SINK_KEYS);
    const named = root.entries('sinks', SINK_KEYS);
    if (single && named.length > 0) root.problem('sinks', 'give either sink or sinks, not both');
    else if (single) connectors.push(readSink(root, single, customer, `${customer}-sink`, source));
    else if (named.length > 0) {
      for (const [n, s] of named) {
        if (!NAME_PATTERN[0].test(n)) s.problem(null, `sink name "${n}" is not valid: ${NAME_PATTERN[1]}`);
        else connectors.push(readSink(root, s, customer, `${customer}-${n}-sink`, source));
      }
    } else root.problem(null, 'declare sink (or sinks: one per entity)');
  }
  problems.throwIfAny();
  pinTopicFormats(connectors);
  // Sources first so `apply` creates what sinks consume before the sinks.
  connectors.sort((a, b) => (a.role === b.role ? 0 : a.role === 'source' ? -1 : 1));
  return { connectors, integrations };
}
