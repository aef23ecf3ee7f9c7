import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { DeliveryShaper, exactJson } from '../connectors/lookup-sink/public.js';
import { Headers, type SinkRecord, type SinkTaskContext } from '../runtime/api/index.js';
import { buildTaskTransforms } from '../runtime/worker/task-transforms.js';
import { IntegrationError } from './problems.js';
import type { Expansion, GeneratedConnector } from './expand.js';
import { GOLDEN_TEST_FILE } from './documents.js';
import { integrationRegistry } from './validate.js';

/**
 * `erpstream integrations test`: golden tests for a customer's integration, in `<name>.test.yaml` next to its
 * file. Each case gives an ERP row as the lookup reads it and the record the customer must receive (or null:
 * not this customer's). The row runs offline through the sink's own chains, built from the generated config by
 * the runtime that builds them in the worker: the input chain (`transforms`, which decides whose record it is)
 * on the row as the consumed value, then the delivery chain (`delivery.transforms`) through the LookupSink's
 * DeliveryShaper, as the task shapes what its destination writes. Code tables come from the test file (`codes:`)
 * instead of the database, so nothing is contacted.
 */

export interface GoldenCase {
  name: string;
  sink: string;
  row: Record<string, unknown>;
  expect: unknown;
}

export interface GoldenFile {
  file: string;
  integration: string;
  codes?: Record<string, Record<string, string>>;
  cases: GoldenCase[];
}

export interface CaseResult {
  file: string;
  integration: string;
  name: string;
  connector: string;
  passed: boolean;
  expected: unknown;
  actual: unknown;
  error?: string;
}

/** The golden files for the inputs: every `*.test.yaml` in a directory, the sibling of a given file. */
export async function findGoldenFiles(inputs: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (GOLDEN_TEST_FILE.test(e.name)) out.add(join(dir, e.name));
    }
  };
  for (const input of inputs) {
    if ((await stat(input)).isDirectory()) await walk(input);
    else if (GOLDEN_TEST_FILE.test(input)) out.add(input);
    else {
      const sibling = join(dirname(input), `${basename(input).replace(/\.(ya?ml|json)$/i, '')}.test.yaml`);
      if (await stat(sibling).catch(() => null)) out.add(sibling);
    }
  }
  return [...out];
}

function invalid(file: string, what: string): IntegrationError {
  return new IntegrationError(`${file}: ${what}`, 'See docs/integrations.md, "Golden tests", for the file format.');
}

export async function readGoldenFile(file: string): Promise<GoldenFile> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    throw invalid(file, `not YAML: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid(file, 'expected a mapping');
  const d = doc as Record<string, unknown>;
  if (d.kind !== 'IntegrationTest') throw invalid(file, 'kind: IntegrationTest is missing');
  const integration = typeof d.integration === 'string' ? d.integration : basename(file).replace(GOLDEN_TEST_FILE, '');
  if (!Array.isArray(d.cases) || d.cases.length === 0) throw invalid(file, 'cases: give at least one case');
  const cases = d.cases.map((c: unknown, i: number): GoldenCase => {
    const o = (c ?? {}) as Record<string, unknown>;
    if (typeof o.sink !== 'string') throw invalid(file, `cases[${i}].sink: name the sink (e.g. shipments)`);
    if (o.row === null || typeof o.row !== 'object') throw invalid(file, `cases[${i}].row: give the ERP row`);
    if (!('expect' in o)) throw invalid(file, `cases[${i}].expect: give the record (or null: not delivered)`);
    return {
      name: typeof o.name === 'string' ? o.name : `case ${i + 1}`,
      sink: o.sink,
      row: o.row as Record<string, unknown>,
      expect: o.expect,
    };
  });
  return {
    file,
    integration,
    ...(d.codes && typeof d.codes === 'object' ? { codes: d.codes as GoldenFile['codes'] } : {}),
    cases,
  };
}

const TRANSLATE_CODES = /^(?:.*\.)?TranslateCodes$/;

/** The connector config with every TranslateCodes stage reading the test's code tables instead of a database. */
function offlineConfig(config: Record<string, string>, codesFile: string | null, file: string): Record<string, string> {
  const out = { ...config };
  for (const [k, v] of Object.entries(config)) {
    const m = /^((?:delivery\.)?transforms\.[^.]+\.)type$/.exec(k);
    if (!m || !TRANSLATE_CODES.test(v)) continue;
    const stage = m[1]!;
    if (!codesFile) throw invalid(file, `the sink translates codes (${stage}); give the code tables under codes:`);
    for (const key of Object.keys(out)) if (key.startsWith(`${stage}tables.`)) delete out[key];
    out[`${stage}tables.file`] = codesFile;
  }
  return out;
}

function sinkFor(expansion: Expansion, integration: string, sink: string): GeneratedConnector | undefined {
  const names = [
    `${integration}-${sink}-sink`,
    ...(sink === integration || sink === 'sink' ? [`${integration}-sink`] : []),
  ];
  return expansion.connectors.find((c) => c.role === 'sink' && names.includes(c.name));
}

/** A JSON-able view of what the destination would write (exact numbers as JSON text). */
function asJson(value: unknown): unknown {
  return value === null || value === undefined ? null : (JSON.parse(exactJson(value)) as unknown);
}

function inputRecord(topic: string, key: string, row: Record<string, unknown>): SinkRecord {
  return {
    topic,
    kafkaPartition: 0,
    kafkaOffset: 0n,
    keySchema: null,
    key,
    valueSchema: null,
    value: { ...row },
    timestamp: 0,
    timestampType: 'CreateTime',
    headers: Headers.of({}),
    originalTopic: topic,
    originalKafkaPartition: 0,
    originalKafkaOffset: 0n,
  };
}

export async function runGoldenFile(expansion: Expansion, golden: GoldenFile): Promise<CaseResult[]> {
  const registry = integrationRegistry();
  const dir = await mkdtemp(join(tmpdir(), 'erpstream-golden-'));
  try {
    const codesFile = golden.codes ? join(dir, 'codes.yaml') : null;
    if (codesFile) await writeFile(codesFile, toYaml(golden.codes));
    const results: CaseResult[] = [];
    for (const c of golden.cases) {
      const connector = sinkFor(expansion, golden.integration, c.sink);
      if (!connector) {
        throw invalid(golden.file, `case "${c.name}": integration "${golden.integration}" has no sink "${c.sink}"`);
      }
      const props = offlineConfig(connector.config, codesFile, golden.file);
      const result: CaseResult = {
        file: golden.file,
        integration: golden.integration,
        name: c.name,
        connector: connector.name,
        passed: false,
        expected: c.expect,
        actual: null,
      };
      try {
        result.actual = await deliver(registry, props, c.row);
        result.passed = deepEqual(result.actual, c.expect);
      } catch (e) {
        result.error = (e as Error).message;
      }
      results.push(result);
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The row through the sink's input chain, then its delivery chain: the record delivered, or null. */
async function deliver(
  registry: ReturnType<typeof integrationRegistry>,
  props: Record<string, string>,
  row: Record<string, unknown>,
): Promise<unknown> {
  const keyColumns = (props['lookup.key.columns'] ?? '').split(',').map((k) => k.trim());
  const entityId = keyColumns.map((k) => String(row[k] ?? '')).join(',');
  const input = await buildTaskTransforms(registry, props, '');
  try {
    const kept = input.apply(inputRecord((props.topics ?? '').split(',')[0] ?? '', entityId, row));
    if (kept === null) return null;
  } finally {
    await input.close();
  }
  const deliveryTransforms = (props['delivery.transforms'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (deliveryTransforms.length === 0) return asJson(row);
  const context = {
    transforms: (p: Readonly<Record<string, string>>, prefix: string) => buildTaskTransforms(registry, p, prefix),
  } as unknown as SinkTaskContext;
  const destinationType = (props['destination.type'] ?? 'kafka') as 'kafka';
  const entity = props['entity.name'] ?? props['lookup.table'] ?? '';
  const shaper = await DeliveryShaper.open(context, props, {
    deliveryTransforms,
    entity,
    destination: { type: destinationType },
  });
  try {
    const shaped = shaper!.shape(row, entityId, 1n, props['destination.topic'] ?? '', null);
    return shaped === null ? null : asJson(shaped.value);
  } finally {
    await shaper!.close();
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

/** Key order does not matter; YAML numbers and strings are compared as written. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, x]) => [k, normalize(x)]),
    );
  }
  return v;
}

/** The difference, field by field for records (- expected, + actual), else as whole JSON values. */
export function renderDiff(expected: unknown, actual: unknown): string {
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const show = (v: unknown) => JSON.stringify(normalize(v));
  if (!isRecord(expected) || !isRecord(actual)) return `  - ${show(expected)}\n  + ${show(actual)}`;
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  const out: string[] = [];
  for (const k of keys) {
    const e = k in expected ? `${k}: ${show(expected[k])}` : undefined;
    const a = k in actual ? `${k}: ${show(actual[k])}` : undefined;
    if (e === a) out.push(`    ${e}`);
    else {
      if (e !== undefined) out.push(`  - ${e}`);
      if (a !== undefined) out.push(`  + ${a}`);
    }
  }
  return out.join('\n');
}
