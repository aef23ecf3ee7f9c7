import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../../cli/context.js';
import { runCli } from '../../../../cli/program.js';

function context(): CliContext & { err: () => string } {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stdout = new PassThrough();
  stdout.resume();
  return {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: {},
    exitCode: 0,
    output: 'table',
    noColor: true,
    err: () => err,
  };
}

describe('erpstream demo: invalid input (checked before anything starts)', () => {
  it.each([
    [['--duration', 'soon'], '--duration "soon" is not a duration.'],
    [['--duration', '2s'], '--duration 2s is too short.'],
    [['--rate', 'fast'], '--rate "fast" is not a rate.'],
    [['--rate', '0'], '--rate "0" is not a rate.'],
    [['--format', 'xml'], "argument 'xml' is invalid. Allowed choices are avro, json."],
  ])('demo %j exits 2: %s', async (args, message) => {
    const ctx = context();
    expect(await runCli(['demo', ...args], ctx)).toBe(2);
    expect(ctx.err()).toContain(message);
  });
});
