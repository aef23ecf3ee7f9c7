import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDocuments } from '../../../../integrations/documents.js';
import { expandDocuments } from '../../../../integrations/expand.js';
import { type ErpDatabase, createErpDatabase } from '../../../../cli/demo/erp/database.js';
import { CAPTURED_TABLES } from '../../../../cli/demo/erp/schema.js';
import { type Ledger, runSimulator } from '../../../../cli/demo/erp/simulator.js';
import { ErpSourceConnector, ErpSourceTask } from '../../../../connectors/erp-source/index.js';
import type { Struct } from '../../../../runtime/api/index.js';
import { type SourceRecord } from '../../../../runtime/api/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';

/**
 * The demo ERP against the real ErpSourceConnector: the source config generated from
 * examples/integrations, pointed at a fresh demo database, captures every origin row the simulator wrote —
 * including the long transaction's rows, which commit after later-numbered changes.
 */

let erp: ErpDatabase;
let ledger: Ledger;
const captured = new Map<string, Set<string>>();

const quiet = { info() {}, warn() {}, error() {}, debug() {}, trace() {} };

beforeAll(async () => {
  erp = await createErpDatabase(requireEnv('PG_URL'), `demo_capture_${uniqueSuffix()}`);
  const expansion = expandDocuments(await loadDocuments(['examples/integrations']));
  const source = expansion.connectors.find((c) => c.name === 'erp-source')!;
  const config: Record<string, string> = { ...source.config, 'connection.url': erp.url, 'snapshot.mode': 'never' };
  delete config['connection.user'];
  delete config['connection.password'];
  const connector = new ErpSourceConnector();
  await connector.start(config);
  const [taskConfig] = connector.taskConfigs(1);
  const task = new ErpSourceTask();
  task.initialize({
    taskId: 0,
    connectorName: 'erp-source',
    offsetStorageReader: { offset: async () => null, offsets: async () => new Map() },
    logger: quiet as never,
    status: { progress() {} } as never,
  });
  await task.start(taskConfig!);
  const keyOf = (r: SourceRecord): string => {
    const table = r.topic.split('.').pop()!;
    const column = CAPTURED_TABLES.find((t) => t.table === table)!.key;
    return String((r.key as Struct).get(column));
  };
  let finished = false;
  const simulation = runSimulator(erp.pool, {
    durationMs: 4_000,
    rate: 30,
    longTransactionMs: 2_000,
    seed: 11,
  }).finally(() => (finished = true));
  try {
    // Poll while the team works, then until the change table is drained (an empty poll after the end).
    for (;;) {
      const batch = (await task.poll()) ?? [];
      for (const r of batch) {
        if (r.value === null) continue;
        const set = captured.get(r.topic) ?? new Set<string>();
        set.add(keyOf(r));
        captured.set(r.topic, set);
      }
      if (finished && batch.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    ledger = await simulation;
  } finally {
    await task.stop();
    await connector.stop();
  }
}, 90_000);

afterAll(async () => {
  await erp?.close({ drop: true });
});

describe('demo ERP captured by the ErpSourceConnector', () => {
  it('emits every origin row of every customer, the long transaction and the poison row included', () => {
    for (const [domain, cl] of Object.entries(ledger.customers)) {
      const missing = (topic: string, ids: string[]) => ids.filter((id) => !captured.get(topic)?.has(id));
      expect(missing('erp.erp.shipment', [...cl.rows.shipment, ...cl.poison.map((p) => p.id)]), domain).toEqual([]);
      expect(missing('erp.erp.document', cl.rows.document), domain).toEqual([]);
      expect(missing('erp.erp.document_domain', cl.rows.document), domain).toEqual([]);
      expect(missing('erp.erp.person', cl.rows.person), domain).toEqual([]);
      expect(missing('erp.erp.phone', cl.rows.phone), domain).toEqual([]);
    }
    expect(ledger.longTransaction?.committedAt).not.toBeNull();
    const shipments = Object.values(ledger.customers).reduce((n, c) => n + c.rows.shipment.length + c.poison.length, 0);
    expect(captured.get('erp.erp.shipment')?.size).toBe(shipments);
  });
});
