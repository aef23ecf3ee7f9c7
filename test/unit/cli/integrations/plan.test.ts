import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectorConfig } from '../../../../cli/connect/types.js';
import { planDeleteIntegration, listIntegrations } from '../../../../cli/integrations/cluster.js';
import { loadDocuments } from '../../../../integrations/documents.js';
import { type Expansion, expandDocuments } from '../../../../integrations/expand.js';
import { computePlan, hasChanges, renderPlan } from '../../../../cli/integrations/plan.js';
import { plainStyle } from '../../../../cli/output.js';
import { writeTree } from './write-files.js';

const BASE =
  'apiVersion: erpstream/v1\nkind: IntegrationTemplate\n' +
  'source: {name: erp, connection: {url: "postgresql://h/erp", password: "${env:ERP_PW}"}, capture: {changeTable: erp.ct}, topicPrefix: erp, tables: [erp.d]}\n' +
  'sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: "${customer}.docs"}}\n';
const customer = (name: string, extra = '') =>
  `apiVersion: erpstream/v1\nkind: Integration\nextends: ./base.yaml\nmetadata: {name: ${name}}\n${extra}`;

async function expand(files: Record<string, string>, inputs: string[]): Promise<Expansion> {
  const dir = await writeTree({ 'base.yaml': BASE, ...files });
  return expandDocuments(
    await loadDocuments(
      inputs.map((i) => join(dir, i)),
      dir,
    ),
  );
}

/** The cluster after applying: name → config, as GET /connectors?expand=info returns them. */
function clusterOf(exp: Expansion, extra: Record<string, ConnectorConfig> = {}): Map<string, ConnectorConfig> {
  return new Map([
    ...exp.connectors.map((c): [string, ConnectorConfig] => [c.name, { ...c.config }]),
    ...Object.entries(extra),
  ]);
}

describe('plan', () => {
  it('creates everything on an empty cluster, the shared source first', async () => {
    const exp = await expand({ 'a.yaml': customer('a'), 'b.yaml': customer('b') }, ['a.yaml', 'b.yaml']);
    const plan = computePlan(exp, new Map());
    expect(plan.items.map((i) => `${i.action} ${i.name}`)).toEqual([
      'create erp-source',
      'create a-sink',
      'create b-sink',
    ]);
    expect(plan.items[0]!.changes.find((c) => c.key === 'connection.password')).toEqual({
      key: 'connection.password',
      kind: 'added',
      after: '${env:ERP_PW}',
    });
  });

  it('is idempotent: applied configs on the cluster give "No changes"', async () => {
    const exp = await expand({ 'a.yaml': customer('a'), 'b.yaml': customer('b') }, ['a.yaml', 'b.yaml']);
    const plan = computePlan(exp, clusterOf(exp));
    expect(hasChanges(plan)).toBe(false);
    expect(renderPlan(plan, plainStyle)).toBe(
      [
        '= unchanged source erp-source [a, b]: up to date',
        '= unchanged sink a-sink [a]: up to date',
        '= unchanged sink b-sink [b]: up to date',
        '',
        'No changes: 3 connectors up to date.',
        '',
      ].join('\n'),
    );
  });

  it('shows a key-level diff for a changed customer, with placeholders as written and literal secrets hidden', async () => {
    const before = await expand({ 'a.yaml': customer('a') }, ['a.yaml']);
    const cluster = clusterOf(before);
    cluster.get('erp-source')!['connection.password'] = 's3cret-literal';
    const after = await expand({ 'a.yaml': customer('a', 'sink: {destination: {topic: "${customer}.documents"}}\n') }, [
      'a.yaml',
    ]);
    const plan = computePlan(after, cluster);
    expect(renderPlan(plan, plainStyle)).toBe(
      [
        '~ update source erp-source [a]: 1 key differs',
        '    ~ connection.password: [hidden] → ${env:ERP_PW}',
        '~ update sink a-sink [a]: 1 key differs',
        '    ~ destination.topic: a.docs → a.documents',
        '',
        'Plan: 0 to create, 2 to update, 0 to delete, 0 unchanged.',
        '',
      ].join('\n'),
    );
    expect(JSON.stringify(plan)).not.toContain('s3cret-literal');
  });

  it("deletes a declared integration's sink that is no longer generated, but leaves other integrations alone", async () => {
    const two = await expand(
      {
        'a.yaml': customer(
          'a',
          'sink: null\nsinks: {docs: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: x}}, more: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: y}}}\n',
        ),
        'b.yaml': customer('b'),
      },
      ['a.yaml', 'b.yaml'],
    );
    const cluster = clusterOf(two, { 'hand-made': { name: 'hand-made', 'connector.class': 'X' } });
    const onlyA = await expand(
      {
        'a.yaml': customer(
          'a',
          'sink: null\nsinks: {docs: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: x}}}\n',
        ),
      },
      ['a.yaml'],
    );
    const plan = computePlan(onlyA, cluster);
    expect(plan.items.map((i) => `${i.action} ${i.name}: ${i.reason}`)).toEqual([
      'unchanged erp-source: up to date',
      'unchanged a-docs-sink: up to date',
      'delete a-more-sink: integration a no longer declares it',
    ]);
    expect(plan.untouched).toEqual(['b-sink']);
    // With --prune these files are the whole truth: b goes, and then nothing uses the source... but a still does.
    const pruned = computePlan(onlyA, cluster, { prune: true });
    expect(pruned.items.filter((i) => i.action === 'delete').map((i) => i.name)).toEqual(['a-more-sink', 'b-sink']);
    expect(pruned.untouched).toEqual([]);
  });

  it('deletes a shared source only when no remaining sink uses it', async () => {
    const a = await expand({ 'a.yaml': customer('a') }, ['a.yaml']);
    const cluster = clusterOf(a);
    const other = await expand({ 'b.yaml': customer('b', 'source: {name: erp2}\n') }, ['b.yaml']);
    const plan = computePlan(other, cluster, { prune: true });
    expect(plan.items.map((i) => `${i.action} ${i.name}`)).toEqual([
      'create erp2-source',
      'create b-sink',
      'delete a-sink',
      'delete erp-source',
    ]);
  });

  it('takes over a same-named connector created by hand, saying so', async () => {
    const a = await expand({ 'a.yaml': customer('a') }, ['a.yaml']);
    const cluster = new Map([['a-sink', { name: 'a-sink', 'connector.class': 'erpstream.LookupSinkConnector' }]]);
    const item = computePlan(a, cluster).items.find((i) => i.name === 'a-sink')!;
    expect(item.action).toBe('update');
    expect(item.reason).toBe('exists but is not managed by integration files yet; it will be taken over');
  });
});

describe('delete and list on the cluster', () => {
  it('deletes an integration with its sinks, and the shared source only with the last integration', async () => {
    const exp = await expand({ 'a.yaml': customer('a'), 'b.yaml': customer('b') }, ['a.yaml', 'b.yaml']);
    const cluster = clusterOf(exp);
    const delA = planDeleteIntegration('a', cluster);
    expect(delA.items.map((i) => `${i.action} ${i.name}`)).toEqual(['delete a-sink']);
    expect(delA.untouched).toEqual(['erp-source (still used by b)']);
    cluster.delete('a-sink');
    expect(planDeleteIntegration('b', cluster).items.map((i) => `${i.action} ${i.name}`)).toEqual([
      'delete b-sink',
      'delete erp-source',
    ]);
    expect(planDeleteIntegration('nobody', cluster).items).toEqual([]);
  });

  it('lists integrations by label with their connectors and states', async () => {
    const exp = await expand({ 'a.yaml': customer('a'), 'b.yaml': customer('b') }, ['a.yaml', 'b.yaml']);
    const expanded = Object.fromEntries(
      exp.connectors.map((c) => [
        c.name,
        {
          info: { name: c.name, config: c.config, tasks: [], type: c.role },
          status: {
            name: c.name,
            connector: { state: c.name === 'b-sink' ? 'FAILED' : 'RUNNING', worker_id: 'w' },
            // A RUNNING connector whose task FAILED: the summary must say so.
            tasks: c.name === 'a-sink' ? [{ id: 0, state: 'FAILED', worker_id: 'w', trace: 'boom' }] : [],
            type: c.role,
          },
        },
      ]),
    );
    expanded['other'] = {
      info: { name: 'other', config: { 'connector.class': 'X' }, tasks: [], type: 'sink' },
    } as never;
    expect(listIntegrations(expanded)).toEqual([
      { integration: 'a', source: 'erp', connectors: ['a-sink'], states: '1 RUNNING', tasks: '0/1 running (1 FAILED)' },
      { integration: 'b', source: 'erp', connectors: ['b-sink'], states: '1 FAILED', tasks: '0' },
    ]);
  });
});

describe('secrets in plans', () => {
  it("hides a literal URL in a transform's PASSWORD key (TranslateCodes tables.connection.url)", async () => {
    const exp = await expand(
      { 'a.yaml': customer('a', 'translate: {fields: {st: status}, connectionUrl: "postgresql://u:pw@h/erp"}\n') },
      ['a.yaml'],
    );
    const plan = computePlan(exp, new Map());
    const text = renderPlan(plan, plainStyle);
    expect(text).toContain('+ delivery.transforms.codes.tables.connection.url: [hidden]');
    expect(text).not.toContain('pw@h');
  });
});

describe('executing a plan', () => {
  it('treats a connector already gone (404 on delete) as deleted, and stops at other failures', async () => {
    const { executePlan } = await import('../../../../cli/integrations/cluster.js');
    const { ConnectClient } = await import('../../../../cli/connect/client.js');
    const calls: string[] = [];
    const fetchStub = (async (url: string, init: { method: string }) => {
      calls.push(`${init.method} ${new URL(url).pathname}`);
      if (url.endsWith('/gone'))
        return new Response(JSON.stringify({ error_code: 404, message: 'Connector gone not found' }), { status: 404 });
      return new Response(JSON.stringify({ error_code: 500, message: 'boom' }), { status: 500 });
    }) as unknown as typeof fetch;
    const client = new ConnectClient({ url: 'http://connect.test', fetch: fetchStub });
    const del = (name: string) => ({
      action: 'delete' as const,
      name,
      role: 'sink' as const,
      integrations: [],
      changes: [],
      reason: '',
    });
    const done = await executePlan(client, { items: [del('gone')], untouched: [] });
    expect(done).toEqual([{ name: 'gone', action: 'delete', written: true }]);
    await expect(executePlan(client, { items: [del('other'), del('never')], untouched: [] })).rejects.toThrow(
      /answered 500/,
    );
    expect(calls).toEqual(['DELETE /connectors/gone', 'DELETE /connectors/other']);
  });
});
