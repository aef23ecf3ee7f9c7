import type { Command } from 'commander';
import { splitCredentials } from '../connect/client.js';
import { writeResult, writeTable } from '../connect/command-kit.js';
import type { CliContext } from '../context.js';
import { type ConnectContext, contextsPath, readContexts, writeContexts } from '../contexts/store.js';
import { CliError } from '../errors.js';

/**
 * `erpstream config set-context|use-context|get-contexts|current-context|delete-context`: named clusters,
 * kubectl/kcctl style, stored in ~/.config/erpstream/config.yaml ($ERPSTREAM_CONFIG).
 */
export function registerConfigContextCommands(program: Command, ctx: CliContext): void {
  const group = program.command('config').description('contexts: named Kafka Connect clusters and their credentials');

  group
    .command('set-context <name>')
    .description('create or update a context (only the options given change); --use makes it current')
    .option('--connect-url <url>', 'Kafka Connect REST URL')
    .option('--username <user>', 'basic auth user')
    .option('--password <password>', 'basic auth password; prefer ${env:VAR} so the file holds no secret')
    .option('--token <token>', 'bearer token; prefer ${env:VAR}')
    .option('--timeout <ms>', 'per-request timeout in milliseconds')
    .option('--use', 'make it the current context', false)
    .action(async (name: string, opts: SetContextFlags) => {
      const file = await readContexts(ctx.env);
      const existing = file.contexts[name];
      if (!existing && !opts.connectUrl) {
        throw CliError.invalidInput(
          `Context "${name}" does not exist yet and no --connect-url was given.`,
          `Create it with \`erpstream config set-context ${name} --connect-url http://host:8083\`.`,
        );
      }
      const next: ConnectContext = { ...existing };
      if (opts.connectUrl) {
        const { auth } = splitCredentials(opts.connectUrl);
        if (auth) {
          throw CliError.invalidInput(
            'The --connect-url has credentials in it.',
            'Pass them with --username and --password "${env:VAR}" instead, so they are not stored in the URL.',
          );
        }
        next['connect-url'] = opts.connectUrl.replace(/\/+$/, '');
      }
      if (opts.username !== undefined) next.username = opts.username;
      if (opts.password !== undefined) next.password = opts.password;
      if (opts.token !== undefined) next.token = opts.token;
      if (opts.timeout !== undefined) {
        const ms = Number(opts.timeout);
        if (!Number.isInteger(ms) || ms <= 0) {
          throw CliError.invalidInput(`Invalid --timeout "${opts.timeout}": a positive number of milliseconds.`);
        }
        next['timeout-ms'] = ms;
      }
      file.contexts[name] = next;
      if (opts.use || file['current-context'] === undefined) file['current-context'] = name;
      const path = await writeContexts(ctx.env, file);
      const current = file['current-context'] === name;
      writeResult(
        ctx,
        { name, ...redact(next), current, file: path },
        () => `context "${name}" ${existing ? 'updated' : 'created'} in ${path}${current ? ' (current)' : ''}\n`,
      );
    });

  group
    .command('use-context <name>')
    .description('make a context the current one')
    .action(async (name: string) => {
      const file = await readContexts(ctx.env);
      if (!file.contexts[name]) throw unknownContext(name, Object.keys(file.contexts), ctx.env);
      file['current-context'] = name;
      await writeContexts(ctx.env, file);
      writeResult(ctx, { current: name }, () => `switched to context "${name}"\n`);
    });

  group
    .command('get-contexts')
    .description('list the contexts (credentials are never printed)')
    .action(async () => {
      const file = await readContexts(ctx.env);
      const items = Object.entries(file.contexts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, c]) => ({ name, current: file['current-context'] === name, ...redact(c) }));
      const rows = items.map((i) => ({
        current: i.current ? '*' : '',
        name: i.name,
        connect_url: i['connect-url'] ?? '',
        auth: authLabel(file.contexts[i.name]!),
      }));
      writeTable(ctx, items, rows, ['current', 'name', 'connect_url', 'auth']);
    });

  group
    .command('current-context')
    .description('print the current context and the Connect URL it points at')
    .action(async () => {
      const file = await readContexts(ctx.env);
      const name = file['current-context'];
      if (name === undefined || !file.contexts[name]) {
        throw new CliError(`No current context in ${contextsPath(ctx.env)}.`, {
          exitCode: 1,
          hint: 'Create one with `erpstream config set-context <name> --connect-url <url> --use`.',
        });
      }
      const url = file.contexts[name]['connect-url'] ?? '';
      writeResult(ctx, { name, 'connect-url': url }, () => `${name}\n`);
    });

  group
    .command('delete-context <name>')
    .description('remove a context')
    .action(async (name: string) => {
      const file = await readContexts(ctx.env);
      if (!file.contexts[name]) throw unknownContext(name, Object.keys(file.contexts), ctx.env);
      delete file.contexts[name];
      if (file['current-context'] === name) delete file['current-context'];
      await writeContexts(ctx.env, file);
      writeResult(ctx, { deleted: name }, () => `context "${name}" deleted\n`);
    });
}

interface SetContextFlags {
  connectUrl?: string;
  username?: string;
  password?: string;
  token?: string;
  timeout?: string;
  use: boolean;
}

function redact(c: ConnectContext): ConnectContext {
  const out: ConnectContext = { ...c };
  for (const key of ['password', 'token'] as const) {
    const v = out[key];
    if (typeof v === 'string' && !/^\$\{env:[^}]+\}$/.test(v.trim())) out[key] = '[hidden]';
  }
  return out;
}

function authLabel(c: ConnectContext): string {
  if (c.token) return 'bearer';
  if (c.username) return `basic (${String(c.username)})`;
  return '';
}

function unknownContext(name: string, known: string[], env: NodeJS.ProcessEnv): CliError {
  return CliError.invalidInput(
    `No context named "${name}" in ${contextsPath(env)}${known.length ? ` (known: ${known.join(', ')})` : ''}.`,
    `Create it with \`erpstream config set-context ${name} --connect-url <url>\`.`,
  );
}
