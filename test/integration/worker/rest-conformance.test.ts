import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { uniqueSuffix } from '../env.js';
import { runConformance, type StepResult } from './conformance.js';
import { startTestWorker } from '../test-worker.js';

/**
 * The status codes and messages below were recorded from Apache Kafka Connect 3.9.1 (the stack's
 * `connect` service) with the same requests; the two deliberate differences are marked.
 */
const EXPECTED_STATUS: Record<string, number> = {
  'unknown path': 404,
  'wrong method': 405,
  'wrong content type': 415,
  'malformed JSON': 400, // Connect: 500 (see docs/worker.md)
  'unknown connector': 404,
  'unknown connector status': 404,
  'unknown connector restart': 404,
  'unknown connector pause': 404,
  'unknown connector stop': 404,
  'unknown task status': 404,
  'unknown connector topics': 200,
  'invalid config': 400,
  'name mismatch': 400,
  'unknown connector.class': 400, // Connect 4.x: 400; 3.9.1: 500
  create: 201,
  'create again': 409,
  info: 200,
  config: 200,
  status: 200,
  tasks: 200,
  'task status': 200,
  'missing task status': 404,
  'missing task restart': 404,
  'put config name mismatch': 400,
  'put config update': 200,
  'patch config invalid': 400,
  'offsets while running': 200,
  'delete offsets while running': 400,
  'restart plain': 204,
  pause: 202,
  resume: 202,
  'expand unknown': 200,
  stop: 204,
  'stopped status': 200,
  'stopped info': 200,
  'alter offsets empty': 400,
  'alter offsets': 200,
  'offsets after alter': 200,
  'reset offsets': 200,
  'offsets after reset': 200,
  'validate mismatch': 400,
  'validate without connector.class': 400, // Connect: 500 (see docs/worker.md)
  'plugin config unknown': 404,
  'logger unknown': 404,
  'logger bad level': 404,
  'logger no level': 400,
  health: 200,
  delete: 204,
  deleted: 404,
  // issue 19: raw paths, methods, negotiation, nulls (recorded from Connect 3.9.1 the same way)
  'encoded dot-dot segment': 404,
  'dot segment': 404,
  'double slash authority': 404,
  'double trailing slash': 404,
  'encoded literal segment': 404,
  'matrix parameters': 200,
  'matrix parameters after a slash': 200,
  'matrix parameters in a name': 404,
  'encoded slash in a name': 404,
  'double-encoded name': 404,
  'encoded semicolon in a name': 404,
  'UTF-8 name': 404,
  'invalid UTF-8 name': 404,
  'task id with a plus sign': 404,
  'task id overflow': 404,
  'NUL in the path': 400,
  'malformed escape in the path': 400,
  'HEAD /': 200,
  'OPTIONS /connectors': 200,
  'OPTIONS unknown path': 404,
  'Accept text/plain': 406,
  'Accept with a wildcard': 200,
  'unknown method': 405,
  'method no resource has': 405,
  "null for the connector's own key": 200,
  'null for an undeclared key': 200,
  'null for a framework key': 200,
  'unparsable values': 200,
  'create with a null own key': 201,
  'delete it': 204,
  'create with a null undeclared key': 400,
  'create ".."': 201,
  'get ".." encoded': 200,
  'get ".." plain': 200,
  'config of ".."': 200,
  'delete ".."': 204,
  '".." deleted': 404,
};

const EXPECTED_BODY: Record<string, unknown> = {
  'unknown path': { error_code: 404, message: 'HTTP 404 Not Found' },
  'wrong method': { error_code: 405, message: 'HTTP 405 Method Not Allowed' },
  'wrong content type': { error_code: 415, message: 'HTTP 415 Unsupported Media Type' },
  'unknown connector': { error_code: 404, message: 'Connector no-such-connector not found' },
  'unknown connector status': { error_code: 404, message: 'No status found for connector no-such-connector' },
  'unknown connector restart': { error_code: 404, message: 'Unknown connector: no-such-connector' },
  'unknown connector pause': { error_code: 404, message: 'Unknown connector no-such-connector' },
  'unknown connector stop': { error_code: 404, message: 'Unknown connector no-such-connector' },
  'unknown task status': { error_code: 404, message: 'No status found for task no-such-connector-0' },
  'unknown connector topics': { 'no-such-connector': { topics: [] } },
  'invalid config': {
    error_code: 400,
    message:
      'Connector configuration is invalid and contains the following 3 error(s):\nInvalid value 0 for configuration tasks.max: Value must be at least 1\nInvalid value x for configuration errors.tolerance: String must be one of: none, all\nMissing required configuration "topic" which has no default value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`',
  },
  'create again': { error_code: 409, message: 'Connector <name> already exists' },
  // Connect 4.x (KIP-891) shows the plugin's version on statuses; 3.9 did not
  status: {
    connector: { state: 'RUNNING', worker_id: '<worker>', version: '<version>' },
    name: '<name>',
    tasks: [{ id: 0, state: 'RUNNING', worker_id: '<worker>', version: '<version>' }],
    type: 'source',
  },
  'missing task status': { error_code: 404, message: 'No status found for task <name>-7' },
  'missing task restart': { error_code: 404, message: 'Unknown task: <name>-7' },
  'delete offsets while running': {
    error_code: 400,
    message:
      "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/<name>/stop' endpoint",
  },
  'expand unknown': {},
  'stopped status': {
    connector: { state: 'STOPPED', worker_id: '<worker>', version: '<version>' },
    name: '<name>',
    tasks: [],
    type: 'source',
  },
  'alter offsets empty': {
    error_code: 400,
    message: 'Partitions / offsets need to be provided for an alter offsets request',
  },
  'alter offsets': { message: 'The offsets for this connector have been altered successfully' },
  'offsets after alter': { offsets: [{ offset: { position: 6 }, partition: { filename: '<input>' } }] },
  'reset offsets': { message: 'The offsets for this connector have been reset successfully' },
  'offsets after reset': { offsets: [] },
  'validate mismatch': {
    error_code: 400,
    message: 'Included connector type FileStreamSource does not match request type FileStreamSink',
  },
  'plugin config unknown': { error_code: 404, message: 'Unknown plugin NoSuchPlugin.' },
  'logger unknown': { error_code: 404, message: 'Logger no.such.logger not found.' },
  'logger bad level': { error_code: 404, message: "invalid log level 'LOUD'." },
  'logger no level': { error_code: 400, message: "Desired 'level' parameter was not specified in request." },
  health: { message: 'Worker has completed startup and is ready to handle requests.', status: 'healthy' },
  deleted: { error_code: 404, message: 'Connector <name> not found' },
  'encoded dot-dot segment': { error_code: 404, message: 'HTTP 404 Not Found' },
  'double slash authority': { error_code: 404, message: 'HTTP 404 Not Found' },
  'matrix parameters in a name': { error_code: 404, message: 'No status found for connector no-such' },
  'encoded slash in a name': { error_code: 404, message: 'Connector a/b not found' },
  'task id with a plus sign': { error_code: 404, message: 'No status found for task no-such-connector-1' },
  'OPTIONS /connectors': 'HEAD, POST, GET, OPTIONS',
  'Accept text/plain': { error_code: 406, message: 'HTTP 406 Not Acceptable' },
  'unknown method': { error_code: 405, message: 'HTTP 405 Method Not Allowed' },
  'null for an undeclared key': {
    error_count: 1,
    errors: { key: ['Null value can not be supplied as the configuration value.'] },
  },
  'create ".."': '..',
  '".." deleted': { error_code: 404, message: 'Connector .. not found' },
};

describe('REST conformance with Kafka Connect 3.9/4.x (erpstream worker, real Kafka)', () => {
  let worker: RunningWorker;
  let results: StepResult[];

  beforeAll(async () => {
    ({ worker } = await startTestWorker('conf'));
    results = await runConformance(worker.url, `it-conformance-${uniqueSuffix()}`);
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('answers every step with the status Connect answers', () => {
    expect(Object.fromEntries(results.map((r) => [r.step, r.status]))).toEqual(EXPECTED_STATUS);
  });

  it("answers with Connect's bodies and messages", () => {
    for (const [step, body] of Object.entries(EXPECTED_BODY)) {
      expect(results.find((r) => r.step === step)?.body, step).toEqual(body);
    }
  });

  it('shapes: ConnectorInfo and TaskInfo', () => {
    const info = results.find((r) => r.step === 'info')!.body as Record<string, unknown>;
    expect(info).toEqual({
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
        file: '<input>',
        name: '<name>',
        'tasks.max': '1',
        topic: '<topic>',
      },
      name: '<name>',
      tasks: [{ connector: '<name>', task: 0 }],
      type: 'source',
    });
    const tasks = results.find((r) => r.step === 'tasks')!.body as Array<{ id: unknown }>;
    expect(tasks[0]!.id).toEqual({ connector: '<name>', task: 0 });
  });
});
