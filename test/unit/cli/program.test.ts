import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeContexts } from '../../../cli/contexts/store.js';
import { COMMAND_GROUPS, commandWord, createProgram, runCli } from '../../../cli/program.js';
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

describe('the command line as users type it', () => {
  it('loads only the command group it names, and root help still lists every command', async () => {
    expect(commandWord(['--context', 'prod', '-o', 'json', 'connectors', 'list'])).toBe('connectors');
    expect(commandWord(['help', 'integrations'])).toBe('integrations');
    expect(commandWord(['--no-color'])).toBeUndefined();
    const help = context();
    expect(await runCli(['--help'], help.ctx)).toBe(0);
    for (const g of COMMAND_GROUPS) for (const name of Object.keys(g.commands)) expect(help.out()).toContain(name);
  });

  it('describes each command in root help exactly as the command group does', async () => {
    const full = await createProgram(context().ctx);
    const lazy = await createProgram(context().ctx, ['--version']);
    const describe = (p: Awaited<ReturnType<typeof createProgram>>) =>
      p.commands.map((c) => [c.name(), c.aliases(), c.description()]);
    expect(describe(lazy)).toEqual(describe(full));
  });

  it('accepts --context before the command as kubectl and kcctl users type it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'erpstream-ctx-'));
    const env = { ERPSTREAM_CONFIG: join(dir, 'config.yaml') };
    await writeContexts(env, {
      'current-context': 'prod',
      contexts: {
        prod: { 'connect-url': 'http://127.0.0.1:9' },
        dev: { 'connect-url': 'http://127.0.0.1:1' },
      },
    });
    for (const argv of [
      ['--context', 'dev', 'connectors', 'list'],
      ['connectors', 'list', '--context', 'dev'],
    ]) {
      const c = context(env);
      expect(await runCli(argv, c.ctx)).toBe(3);
      expect(c.err()).toContain('127.0.0.1:1');
      expect(c.err()).not.toContain('127.0.0.1:9');
    }
  });
});
