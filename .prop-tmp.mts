import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { clusterProps, rest, startWorker, stopWorker, waitFor, writeProps } from './test/integration/worker/distributed/cluster.js';
const dir = await mkdtemp(path.join(os.tmpdir(), 'i18c-prop-'));
const props = await writeProps(path.join(dir, 'w.properties'), clusterProps(process.env.KAFKA_BROKERS!, `i18c-prop-${Date.now()}`, { 'log.level': 'WARN' }));
const [a, b] = await Promise.all([startWorker(props), startWorker(props)]);
try {
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const name = `prop-${i}`;
    const cfg = { 'connector.class': 'erpstream.connectors.SequenceSourceConnector', 'tasks.max': '1', topic: `i18c-prop-${i}`, 'records.per.second': '1' };
    await waitFor(async () => { const r = await rest(a.url, 'PUT', `/connectors/${name}/config`, cfg); return r.status === 409 ? null : r; }, 60000, 'accept');
    const t0 = performance.now();
    for (;;) { const r = await rest(b.url, 'GET', `/connectors/${name}`); if (r.status === 200) break; await new Promise((r) => setTimeout(r, 5)); }
    delays.push(Math.round(performance.now() - t0));
    await rest(a.url, 'DELETE', `/connectors/${name}`);
    await new Promise((r) => setTimeout(r, 1500));
  }
  console.log('config propagation to the other worker (ms, after the PUT returned):', delays.join(' '), 'load', os.loadavg()[0]);
} finally { await Promise.all([stopWorker(a), stopWorker(b)]); }
