import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnv } from '../env.js';
import { repoRoot } from '../../support/erpstream-cli.js';
import { readTopic } from '../../support/topics.js';
import {
  type WorkerProcess,
  rest,
  startStandaloneWorker,
  stopWorker,
  tempDir,
  uniqueName,
  waitFor,
  waitForConnectorState,
} from '../../support/worker.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * A plugin that is not part of erpstream, installed the way a Connect plugin is: its package in a folder on the
 * worker's `plugin.path`, importing only `erpstream/api`. The worker loads it at start, lists it, and a connector
 * uses it end to end: FileStreamSource → the example's Shout transform → Kafka.
 */
describe('a third-party plugin on plugin.path (examples/third-party-plugin)', () => {
  let dir: string;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    dir = await tempDir('erpstream-it-plugin');
    // What `npm install` in the plugin's folder does with its `erpstream: file:../..` dependency: a link to erpstream.
    const installed = path.join(dir, 'plugins', 'shout');
    await cp(path.join(repoRoot, 'examples', 'third-party-plugin'), installed, {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}node_modules`),
    });
    await mkdir(path.join(installed, 'node_modules'), { recursive: true });
    await symlink(repoRoot, path.join(installed, 'node_modules', 'erpstream'), 'dir');
    worker = await startStandaloneWorker({
      brokers,
      dir,
      extra: {
        'plugin.path': path.join(dir, 'plugins'),
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      },
    });
  }, 120_000);
  afterAll(async () => {
    if (worker) await stopWorker(worker);
  });

  it('lists the plugin with its version next to the built-in ones', async () => {
    const r = await rest<Array<{ class: string; type: string; version: string }>>(
      worker!.url,
      'GET',
      '/connector-plugins?connectorsOnly=false',
    );
    expect(r.status).toBe(200);
    expect(r.body).toContainEqual(
      expect.objectContaining({ class: 'com.example.erpstream.Shout', type: 'transformation', version: '1.0.0' }),
    );
    expect(r.body.some((p) => p.class.endsWith('FileStreamSourceConnector'))).toBe(true);
  });

  it('runs a connector whose transform is the plugin: every line reaches Kafka upper-cased, in order', async () => {
    const input = path.join(dir, 'in.txt');
    await writeFile(input, 'hello\nplugin path\nÄrger\n');
    const topic = uniqueName('it-plugin-shout');
    const name = uniqueName('it-plugin-src');
    const created = await rest<{ message?: string }>(worker!.url, 'PUT', `/connectors/${name}/config`, {
      'connector.class': 'FileStreamSource',
      file: input,
      topic,
      transforms: 'shout',
      'transforms.shout.type': 'Shout',
      'transforms.shout.suffix': '!',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitForConnectorState(worker!.url, name, 'RUNNING');
    const records = await waitFor(
      async () => {
        const got = await readTopic(brokers, topic);
        return got.length >= 3 ? got : null;
      },
      60_000,
      `three records on ${topic}`,
      { intervalMs: 500 },
    );
    expect(records.map((r) => r.value)).toEqual(['HELLO!', 'PLUGIN PATH!', 'ÄRGER!']);
  });

  it("refuses the plugin's own invalid setting when the connector is created, naming the key", async () => {
    const name = uniqueName('it-plugin-bad');
    const r = await rest<{ message?: string }>(worker!.url, 'PUT', `/connectors/${name}/config`, {
      'connector.class': 'FileStreamSource',
      file: path.join(dir, 'in.txt'),
      topic: uniqueName('it-plugin-bad'),
      transforms: 'shout',
      'transforms.shout.type': 'com.example.erpstream.Shout',
      'transforms.shout.suffix': 'x'.repeat(40),
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/transforms\.shout\.suffix/);
    expect(r.body.message).toMatch(/at most 16 characters/);
  });
});
