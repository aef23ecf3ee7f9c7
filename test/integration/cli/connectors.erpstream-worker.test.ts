import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConnectCli } from '../../unit/cli/connect/run-connect-cli.js';
import { startTestWorker } from '../test-worker.js';

/**
 * The CLI's connector-command suite (connectors.test.ts, which runs against real Apache Kafka Connect)
 * run a second time against erpstream's own worker: the commands must work the same on both.
 */
const { worker, dir } = await startTestWorker('cli-worker', {
  'offset.flush.interval.ms': '500',
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
});
const connectUrl = process.env.CONNECT_URL;
// The suite reads CONNECT_URL while it loads; test files share one process, so restore it at once.
process.env.CONNECT_URL = worker.url;
process.env.ERPSTREAM_CLI_SUITE_TARGET = 'erpstream';
try {
  await import('./connectors.test.js');
} finally {
  process.env.CONNECT_URL = connectUrl;
  delete process.env.ERPSTREAM_CLI_SUITE_TARGET;
}
afterAll(async () => {
  await worker.stop();
});

describe("the CLI on erpstream's worker", () => {
  it("lists erpstream's own plugins next to Connect's and describes their keys from the same spec", async () => {
    const env = { ERPSTREAM_CONNECT_URL: worker.url, ERPSTREAM_CONFIG: path.join(dir, 'config.yaml') };
    const list = await runConnectCli(['plugins', 'list', '-o', 'json'], { env });
    expect(list.code).toBe(0);
    const plugins = JSON.parse(list.stdout) as Array<{ class: string; type: string }>;
    expect(plugins).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ class: 'erpstream.ErpSourceConnector', type: 'source' }),
        expect.objectContaining({ class: 'org.apache.kafka.connect.file.FileStreamSourceConnector', type: 'source' }),
      ]),
    );
    const described = await runConnectCli(['plugins', 'describe', 'erpstream.ErpSourceConnector', '-o', 'json'], {
      env,
    });
    expect(described.code).toBe(0);
    const keys = (JSON.parse(described.stdout) as Array<{ name: string }>).map((k) => k.name);
    expect(keys).toEqual(expect.arrayContaining(['connection.url', 'capture.mode', 'change.table', 'topic.prefix']));
  });
});
