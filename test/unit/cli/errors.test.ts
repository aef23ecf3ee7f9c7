import { describe, expect, it } from 'vitest';
import { CliError, ExitCode, classifyError } from '../../../cli/errors.js';
import { ConfigError, DataError, RetriableError } from '../../../runtime/api/index.js';
import { ChainConfigError } from '../../../runtime/transforms/index.js';

describe('classifyError', () => {
  it('maps invalid configs and data to exit 2 with what to fix', () => {
    expect(classifyError(ConfigError.missing('transforms.t.spec'))).toMatchObject({
      exitCode: ExitCode.INVALID_INPUT,
      message: 'Missing required configuration "transforms.t.spec" which has no default value.',
      hint: expect.stringContaining('Fix the configuration key') as unknown,
    });
    expect(classifyError(new ChainConfigError([{ key: 'transforms', message: 'x' }])).exitCode).toBe(2);
    expect(classifyError(new DataError('bad', 'a')).exitCode).toBe(2);
  });

  it('maps connection failures (also as a fetch cause) and retriable errors to exit 3', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8083'), { code: 'ECONNREFUSED' });
    expect(classifyError(refused).exitCode).toBe(ExitCode.UNREACHABLE);
    expect(classifyError(new TypeError('fetch failed', { cause: refused })).exitCode).toBe(3);
    expect(classifyError(new RetriableError('broker not available')).exitCode).toBe(3);
    expect(classifyError(refused).hint).toContain('cluster is running');
  });

  it('maps a refused database login (erp init --apply, demo --pg-url) to exit 2 with the settings to check', () => {
    const pg = Object.assign(new Error('password authentication failed for user "erpstream"'), { code: '28P01' });
    const c = classifyError(pg);
    expect(c.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(c.message).toBe('The database refused the login: password authentication failed for user "erpstream"');
    expect(c.hint).toContain('Check the user and password of the database URL');
    expect(c.hint).not.toContain('unexpected');
  });

  it('keeps a CliError’s own code and hint, and maps anything else to 1', () => {
    expect(classifyError(new CliError('x', { exitCode: 3, hint: 'start it' }))).toEqual({
      exitCode: 3,
      message: 'x',
      hint: 'start it',
    });
    expect(classifyError(new Error('boom')).exitCode).toBe(ExitCode.FAILURE);
    expect(classifyError(new Error('boom')).hint).toContain('ERPSTREAM_DEBUG=1');
  });
});
