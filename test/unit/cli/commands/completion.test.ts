import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { registerCompletionCommand } from '../../../../cli/commands/completion.js';
import { registerTailCommand } from '../../../../cli/commands/tail.js';
import type { CliContext } from '../../../../cli/context.js';
import { createProgram } from '../../../../cli/program.js';

function context(): CliContext & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: {},
    exitCode: 0,
    output: 'table',
    noColor: true,
    out: () => out,
    err: () => err,
  };
}

/** The program as users get it, with tail and completion registered (until cli/program.ts wires them in). */
async function script(shell: string): Promise<{ code: number; out: string; err: string }> {
  const ctx = context();
  const program = await createProgram(ctx);
  if (!program.commands.some((c) => c.name() === 'tail')) registerTailCommand(program, ctx);
  if (!program.commands.some((c) => c.name() === 'completion')) registerCompletionCommand(program, ctx);
  let code = 0;
  try {
    await program.parseAsync(['completion', shell], { from: 'user' });
    code = ctx.exitCode;
  } catch {
    code = 2;
  }
  return { code, out: ctx.out(), err: ctx.err() };
}

const dir = mkdtempSync(join(tmpdir(), 'erpstream-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A stand-in `erpstream` on PATH: answers `connectors list -o json` like the real one, plus noise on stderr.
writeFileSync(
  join(dir, 'erpstream'),
  `#!/bin/sh
if [ "$1 $2 $3 $4" = "connectors list -o json" ]; then
  echo "warning: something on stderr" >&2
  printf '[\\n  {\\n    "name": "orders-source",\\n    "type": "source"\\n  },\\n  {\\n    "name": "acme-sink",\\n    "type": "sink"\\n  }\\n]\\n'
fi
`,
);
chmodSync(join(dir, 'erpstream'), 0o755);

function complete(bashScript: string, words: string[]): string[] {
  writeFileSync(join(dir, 'completion.bash'), bashScript);
  const line = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source ${dir}/completion.bash; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _erpstream_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { env: { PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean);
}

describe('erpstream completion bash', () => {
  it('completes commands, subcommands, flags and flag values from the command tree', async () => {
    const { code, out } = await script('bash');
    expect(code).toBe(0);
    expect(out).toContain('complete -o default -F _erpstream_complete erpstream');
    expect(complete(out, ['erpstream', 'con'])).toEqual(['connectors', 'connector', 'config']);
    expect(complete(out, ['erpstream', 'connectors', ''])).toEqual(
      expect.arrayContaining(['list', 'get', 'describe', 'status', 'apply', 'restart']),
    );
    expect(complete(out, ['erpstream', 'connectors', 'list', '--st'])).toEqual(['--state']);
    expect(complete(out, ['erpstream', 'connectors', 'list', '-o', ''])).toEqual(['table', 'json', 'yaml']);
    expect(complete(out, ['erpstream', 'completion', ''])).toEqual(['bash', 'zsh']);
    expect(complete(out, ['erpstream', 'tail', '--format', ''])).toEqual(['auto', 'avro', 'json', 'string']);
  });

  it('completes connector names live from `erpstream connectors list -o json`, quietly', async () => {
    const { out } = await script('bash');
    expect(out).toContain('erpstream connectors list -o json 2>/dev/null');
    expect(complete(out, ['erpstream', 'connectors', 'get', ''])).toEqual(['orders-source', 'acme-sink']);
    expect(complete(out, ['erpstream', 'connectors', 'status', 'a'])).toEqual(['acme-sink']);
    // Global flags and their values before the command do not confuse the command path.
    expect(complete(out, ['erpstream', '-o', 'json', 'connectors', 'restart', ''])).toEqual([
      'orders-source',
      'acme-sink',
    ]);
    expect(complete(out, ['erpstream', 'tasks', 'restart', ''])).toEqual(['orders-source', 'acme-sink']);
    expect(complete(out, ['erpstream', 'offsets', 'get', 'o'])).toEqual(['orders-source']);
  });
});

describe('erpstream completion zsh', () => {
  it('is a #compdef script with described commands and live connector names', async () => {
    const { code, out } = await script('zsh');
    expect(code).toBe(0);
    expect(out.startsWith('#compdef erpstream\n')).toBe(true);
    expect(out).toContain('compdef _erpstream erpstream');
    expect(out).toContain("_describe -t commands 'erpstream command' subs");
    expect(out).toContain("'connectors') subs=(");
    expect(out).toContain("'tail:print the records of a topic");
    expect(out).toContain('erpstream connectors list -o json 2>/dev/null');
    expect(out).toContain("'connectors get') return 0");
    // zsh ties $path to $PATH: a function-local "path" would hide every command from the script.
    expect(out).not.toMatch(/local[^\n]*\bpath\b/);
  });
});

describe('erpstream completion <shell>', () => {
  it('rejects other shells with exit code 2', async () => {
    const { code, err } = await script('fish');
    expect(code).toBe(2);
    expect(err).toContain("'fish' is invalid for argument 'shell'. Allowed choices are bash, zsh.");
  });
});
