import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/program.js';
import type { CliContext } from '../../../cli/context.js';

function context(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const ctx: CliContext = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env,
    exitCode: 0,
    output: 'table',
    noColor: false,
  };
  return { ctx, out: () => out, err: () => err };
}

describe('runCli', () => {
  it('lists transforms in the requested format', async () => {
    const c = context();
    expect(await runCli(['-o', 'json', 'transforms', 'list'], c.ctx)).toBe(0);
    const rows = JSON.parse(c.out()) as Array<{ type: string; class: string }>;
    expect(rows.some((r) => r.class === 'org.apache.kafka.connect.transforms.Filter')).toBe(true);
    expect(rows.some((r) => r.type === 'predicate')).toBe(true);
  });

  it('exits 2 on an unknown command or format, 0 for --help and --version', async () => {
    expect(await runCli(['nope'], context().ctx)).toBe(2);
    const bad = context();
    expect(await runCli(['-o', 'xml', 'transforms', 'list'], bad.ctx)).toBe(2);
    expect(bad.err()).toContain("argument 'xml' is invalid");
    expect(await runCli(['--help'], context().ctx)).toBe(0);
    const v = context();
    expect(await runCli(['--version'], v.ctx)).toBe(0);
    expect(v.out()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('prints help and exits 0 without arguments', async () => {
    const c = context();
    expect(await runCli([], c.ctx)).toBe(0);
    expect(c.out()).toContain('transforms');
  });

  it('reports errors with a hint and no colour on a non-TTY', async () => {
    const c = context();
    expect(await runCli(['transforms', 'run', '-c', '/nonexistent/connector.json'], c.ctx)).toBe(2);
    expect(c.err()).toBe(
      'error: Cannot read connector config /nonexistent/connector.json: no such file.\n' +
        'hint: Pass the connector config file with -c <file> (JSON, YAML or .properties).\n',
    );
  });
});
