import { describe, expect, it } from 'vitest';
import { connectErrorFor } from '../../../cli/connect/errors.js';
import { ExitCode, classifyError } from '../../../cli/errors.js';
import { ErpStreamError } from '../../../runtime/api/index.js';

/** Small defects a new user hit in the first hour: each error says what to do, with the right exit code. */

describe('an unknown connector class', () => {
  const call = { method: 'POST', path: '/connectors', baseUrl: 'http://127.0.0.1:8083' };

  it("is the input's fault (exit 2), with the class it probably meant, against Apache Kafka Connect 3.9 (500)", () => {
    const message =
      'Failed to find any class that implements Connector and which name matches org.apache.kafka.connect.file.FileStreamSinkConector, available connectors are: ' +
      "PluginDesc{klass=class io.debezium.connector.postgresql.PostgresConnector, name='io.debezium.connector.postgresql.PostgresConnector', version='3.2.3.Final'}, " +
      "PluginDesc{klass=class org.apache.kafka.connect.file.FileStreamSinkConnector, name='org.apache.kafka.connect.file.FileStreamSinkConnector', version='3.9.1'}";
    const error = connectErrorFor(call, 500, { error_code: 500, message });
    expect(error.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(error.hint).toBe(
      'Check connector.class: did you mean "org.apache.kafka.connect.file.FileStreamSinkConnector"? `erpstream plugins list` shows the connector classes the cluster has.',
    );
    expect(error.message).not.toContain('PluginDesc');
  });

  it('and against an erpstream worker, also for a simple name', () => {
    const message =
      'Failed to find any class that implements Connector and which name matches LookupSinkConector, available connectors are: erpstream.ErpSourceConnector, erpstream.LookupSinkConnector';
    const error = connectErrorFor(call, 400, { error_code: 400, message });
    expect(error.exitCode).toBe(2);
    expect(error.hint).toContain('did you mean "erpstream.LookupSinkConnector"?');
  });
});

describe('a busy port', () => {
  it('says the port is taken and how to choose another, not "report it as a bug"', () => {
    const busy = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8083'), {
      code: 'EADDRINUSE',
    });
    const c = classifyError(busy);
    expect(c.exitCode).toBe(ExitCode.FAILURE);
    expect(c.message).toBe('The port is taken: listen EADDRINUSE: address already in use 127.0.0.1:8083.');
    expect(c.hint).toContain('--listeners http://127.0.0.1:<port>');
    expect(c.hint).not.toContain('report');
  });
});

describe("a standalone worker's state files", () => {
  it('held by another worker: exit 1, says how to tell which and what to do, not "report it"', () => {
    const c = classifyError(
      new ErpStreamError(
        'ERPSTREAM_STATE_FILE_IN_USE',
        'Offsets file /x/connect.offsets is in use by another standalone worker (pid 7)',
      ),
    );
    expect(c.exitCode).toBe(ExitCode.FAILURE);
    expect(c.hint).toContain('start this one with its own worker file');
    expect(c.hint).not.toMatch(/report it/);
  });

  it('not valid JSON: the input to fix (exit 2)', () => {
    const c = classifyError(new ErpStreamError('ERPSTREAM_STATE_FILE', 'State file /x is not valid JSON'));
    expect(c.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(c.hint).toContain('move it away');
  });
});
