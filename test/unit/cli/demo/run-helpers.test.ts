import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { GeneratedConnector } from '../../../../integrations/expand.js';
import { ProgressLine, RateMeter, formatDemoProgress } from '../../../../cli/demo/progress.js';
import { demoWorkerProps, parseDuration } from '../../../../cli/demo/run.js';
import { loadWorkerConfig } from '../../../../runtime/worker/config.js';
import { namespaceConnectors, sinkTargets, sumMetric } from '../../../../cli/demo/topics.js';

function capture(isTTY: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  out.isTTY = isTTY;
  out.columns = 40;
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

describe('ProgressLine', () => {
  it('redraws one line in place on a terminal, and ends it with a newline', () => {
    const { out, text } = capture(true);
    const p = new ProgressLine(out);
    p.update('a');
    p.update('b');
    p.done();
    expect(text()).toBe('\r\x1b[2Ka\r\x1b[2Kb\n');
  });

  it('cuts a line wider than the terminal', () => {
    const { out, text } = capture(true);
    new ProgressLine(out).update('x'.repeat(100));
    expect(text()).toBe(`\r\x1b[2K${'x'.repeat(38)}…`);
  });

  it('writes plain lines at most every plainEveryMs elsewhere, and always the final one', () => {
    const { out, text } = capture(false);
    let now = 0;
    const p = new ProgressLine(out, { plainEveryMs: 5000, now: () => now });
    p.update('first');
    now = 1000;
    p.update('skipped');
    now = 5000;
    p.update('second');
    now = 5100;
    p.done('final');
    expect(text()).toBe('first\nsecond\nfinal\n');
  });
});

describe('demo progress', () => {
  it('measures a rate over its window', () => {
    const r = new RateMeter(5000);
    expect(r.sample(0, 0)).toBe(0);
    expect(r.sample(10, 1000)).toBe(10);
    expect(r.sample(40, 2000)).toBe(20);
  });

  it('shows captured, delivered, parked, DLQ, lag and rate on one line', () => {
    const line = formatDemoProgress({
      elapsedMs: 12_400,
      durationMs: 20_000,
      phase: 'operating',
      written: 300,
      captured: 290,
      delivered: 170,
      expected: 180,
      parked: 4,
      dlq: 1,
      lag: 12,
      rate: 14.25,
    });
    expect(line).toBe(
      '[operating 12s/20s]  written 300  captured 290  delivered 170/180  parked 4  DLQ 1  lag 12  14.3 rows/s',
    );
  });
});

describe('parseDuration', () => {
  it('reads seconds, minutes and milliseconds', () => {
    expect(parseDuration('20s')).toBe(20_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('7500ms')).toBe(7500);
  });

  it('rejects text and durations too short to show the races', () => {
    expect(() => parseDuration('soon')).toThrow('--duration "soon" is not a duration');
    expect(() => parseDuration('2s')).toThrow('too short');
  });
});

function connector(
  partial: Partial<GeneratedConnector> & { name: string; config: Record<string, string> },
): GeneratedConnector {
  return { role: 'sink', file: 'f.yaml', integrations: ['acme'], sourceName: 'erp', path: '', origins: {}, ...partial };
}

describe('namespaceConnectors', () => {
  const source = connector({
    name: 'erp-source',
    role: 'source',
    integrations: ['acme', 'globex'],
    config: { name: 'erp-source', 'topic.prefix': 'erp' },
  });
  const sink = connector({
    name: 'acme-shipments-sink',
    config: {
      name: 'acme-shipments-sink',
      topics: 'erp.erp.shipment, erp.erp.document',
      'destination.topic': 'acme.shipments',
      'errors.deadletterqueue.topic.name': 'acme.dlq',
      'entity.name': 'shipment',
    },
  });

  it("prefixes every topic and connector name with the run's, leaving the rest of the config alone", () => {
    const [s, k] = namespaceConnectors([source, sink], 'demo.r1.', 'demo-r1-', (c): Record<string, string> =>
      c.role === 'sink' ? { 'park.retry.max.ms': '2000' } : {},
    );
    expect(s!.config).toEqual({ name: 'demo-r1-erp-source', 'topic.prefix': 'demo.r1.erp' });
    expect(k!.name).toBe('demo-r1-acme-shipments-sink');
    expect(k!.config).toEqual({
      name: 'demo-r1-acme-shipments-sink',
      topics: 'demo.r1.erp.erp.shipment,demo.r1.erp.erp.document',
      'destination.topic': 'demo.r1.acme.shipments',
      'errors.deadletterqueue.topic.name': 'demo.r1.acme.dlq',
      'entity.name': 'shipment',
      'park.retry.max.ms': '2000',
    });
    expect(sink.config.topics).toBe('erp.erp.shipment, erp.erp.document');
  });

  it('prefixes the dependency topics a sink follows and the predicate that keeps its routing off them', () => {
    const docs = connector({
      name: 'acme-documents-sink',
      config: {
        name: 'acme-documents-sink',
        topics: 'erp.erp.document,erp.erp.document_domain',
        'dependencies.registered.topic': 'erp.erp.document_domain',
        'predicates.dependencyTopics.pattern': 'erp\\.erp\\.document_domain',
      },
    });
    const [k] = namespaceConnectors([docs], 'demo.r1.', 'demo-r1-');
    expect(k!.config).toMatchObject({
      topics: 'demo.r1.erp.erp.document,demo.r1.erp.erp.document_domain',
      'dependencies.registered.topic': 'demo.r1.erp.erp.document_domain',
      'predicates.dependencyTopics.pattern': 'demo\\.r1\\.erp\\.erp\\.document_domain',
    });
  });

  it('reads where each customer and entity is delivered', () => {
    expect(sinkTargets(namespaceConnectors([source, sink], 'p.', 'n-'))).toEqual([
      {
        connector: 'n-acme-shipments-sink',
        customer: 'acme',
        entity: 'shipment',
        inputTopics: ['p.erp.erp.shipment', 'p.erp.erp.document'],
        destinationTopic: 'p.acme.shipments',
        dlqTopic: 'p.acme.dlq',
      },
    ]);
  });
});

describe('sumMetric', () => {
  it("sums a counter over the named connectors' tasks only", () => {
    const text = [
      '# HELP erpstream_task_records_produced_total Records acknowledged by Kafka (source)',
      'erpstream_task_records_produced_total{connector="src",task="0"} 10',
      'erpstream_task_records_produced_total{connector="src",task="1"} 5',
      'erpstream_task_records_produced_total{connector="other",task="0"} 100',
      'erpstream_task_records_put_total{connector="src",task="0"} 1000',
    ].join('\n');
    expect(sumMetric(text, 'erpstream_task_records_produced_total', new Set(['src']))).toBe(15);
    expect(sumMetric('', 'erpstream_task_records_produced_total', new Set(['src']))).toBe(0);
  });
});

describe('demoWorkerProps', () => {
  it("keeps the run's operations log in a topic of the run, which the worker accepts", async () => {
    const props = demoWorkerProps({
      brokers: '127.0.0.1:9092',
      workDir: '/tmp/x',
      topicPrefix: 'demo.ab12cd34.',
      formatProps: {},
    });
    expect(props['operations.storage.topic']).toBe('demo.ab12cd34.operations');
    const config = await loadWorkerConfig(undefined, 'standalone', props);
    expect(JSON.stringify(config)).toContain('demo.ab12cd34.operations');
  });
});
