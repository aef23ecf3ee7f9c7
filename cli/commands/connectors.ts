import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type ApplyPlanItem,
  type DefinitionValidation,
  executeApply,
  planApply,
  rejects,
  renderValidation,
  validateDefinition,
} from '../connect/apply.js';
import type { ConnectClient } from '../connect/client.js';
import {
  addConnectOptions,
  collect,
  connectClient,
  parseAssignment,
  parseTaskId,
  renderFields,
  traceHeadline,
  writeResult,
  writeTable,
} from '../connect/command-kit.js';
import { type ConnectorDefinition, loadConnectorDefinitions } from '../connect/connector-files.js';
import { ConnectApiError } from '../connect/errors.js';
import { maskConfig, passwordKeysOf, secretTest } from '../connect/secrets.js';
import type { ConnectorConfig, ConnectorStateInfo, ExpandedConnector, TargetState } from '../connect/types.js';
import { type CliContext, styleFor } from '../context.js';
import { renderChanges, summarizeChanges } from '../diff.js';
import { CliError, ExitCode } from '../errors.js';
import { type Style, renderTable } from '../output.js';
import { type WatchOptions, addWatchOption, drawOrWatch } from '../watch.js';
import { taskSummary } from '../connect/task-summary.js';

export { taskSummary };

/**
 * `erpstream connectors ...` and `erpstream tasks ...`: operate connectors on any Kafka-Connect-compatible
 * cluster (Apache Kafka Connect 3.x or erpstream's worker), kcctl-style, with JSON/YAML output everywhere.
 */
export function registerConnectorsCommands(program: Command, ctx: CliContext): void {
  const group = program
    .command('connectors')
    .alias('connector')
    .description('create, apply and operate connectors')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 runtime failure, 2 invalid input, 3 cannot reach the cluster. See docs/cli.md.',
    );

  addWatchOption(
    addConnectOptions(group.command('list').alias('ls').description('list connectors with their state and tasks')),
  )
    .option('--state <state>', 'only connectors in this state (RUNNING, PAUSED, STOPPED, FAILED, UNASSIGNED)')
    .action(async (opts: { state?: string } & WatchOptions, cmd: Command) => {
      const client = await connectClient(ctx, cmd);
      await drawOrWatch(ctx, opts, (c) => listConnectors(c, client, opts.state));
    });

  addConnectOptions(group.command('get <name>').description("print a connector's config (secrets hidden)"))
    .option('--show-secrets', 'print password values in clear', false)
    .action(async (name: string, opts: { showSecrets: boolean }, cmd: Command) => {
      const client = await connectClient(ctx, cmd);
      const info = await client.getConnector(name);
      const config = opts.showSecrets ? info.config : await masked(client, info.config);
      const rows = Object.entries(config)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => ({ key, value }));
      writeTable(ctx, { ...info, config }, rows, ['key', 'value']);
    });

  addConnectOptions(
    group
      .command('describe <name>')
      .description('state, tasks (with failure traces), topics and config of a connector'),
  ).action(async (name: string, _opts: unknown, cmd: Command) => {
    await describeConnector(ctx, await connectClient(ctx, cmd), name);
  });

  addWatchOption(
    addConnectOptions(
      group
        .command('status [name]')
        .description('state of a connector and its tasks (without a name: every connector, as list does)'),
    ),
  ).action(async (name: string | undefined, opts: WatchOptions, cmd: Command) => {
    const client = await connectClient(ctx, cmd);
    if (name === undefined) {
      await drawOrWatch(ctx, opts, (c) => listConnectors(c, client, undefined));
      return;
    }
    await drawOrWatch(ctx, opts, async (c) => {
      const status = await client.getConnectorStatus(name);
      const withProgress = status.tasks.some((t) => t.progress !== undefined);
      const columns = withProgress
        ? ['instance', 'state', 'worker', 'progress', 'trace']
        : ['instance', 'state', 'worker', 'trace'];
      writeTable(c, status, statusRows(status), columns);
    });
  });

  addConnectOptions(
    group
      .command('create')
      .description('create connectors from files; fails if one exists (use apply to create or update)')
      .requiredOption('-f, --file <file|dir|->', 'connector file, directory or - for stdin (repeatable)', collect)
      .addOption(
        new Option(
          '--initial-state <state>',
          'state to create the connector in: RUNNING, PAUSED or STOPPED (Connect ≥ 3.7)',
        ).argParser(parseTargetState),
      )
      .option('--dry-run', 'validate with the cluster; create nothing', false)
      .option(STRICT_FLAG, STRICT_HELP, false),
  ).action(
    async (opts: { file: string[]; initialState?: TargetState; dryRun: boolean; strict: boolean }, cmd: Command) => {
      const defs = await loadConnectorDefinitions(opts.file, ctx.stdin);
      const client = await connectClient(ctx, cmd);
      ctx.exitCode = await validateAndReport(ctx, client, defs, { strict: opts.strict, dryRun: opts.dryRun });
      if (opts.dryRun || ctx.exitCode !== ExitCode.OK) return;
      const results: Array<{ name: string; action: string; type: string; source: string }> = [];
      for (const def of defs) {
        const info = await client.createConnector(def.name, def.config, opts.initialState);
        results.push({ name: info.name, action: 'created', type: info.type, source: def.source });
      }
      writeResult(ctx, results, () =>
        results.map((r) => `connector "${r.name}" created (from ${r.source})\n`).join(''),
      );
    },
  );

  addConnectOptions(
    group
      .command('apply')
      .description('create or update connectors from files, showing the config diff first; a no-op when equal')
      .requiredOption('-f, --file <file|dir|->', 'connector file, directory or - for stdin (repeatable)', collect)
      .option('--dry-run', 'show the diff and validate with the cluster; write nothing', false)
      .option(STRICT_FLAG, STRICT_HELP, false),
  ).action(async (opts: { file: string[]; dryRun: boolean; strict: boolean }, cmd: Command) => {
    const defs = await loadConnectorDefinitions(opts.file, ctx.stdin);
    await applyConnectors(ctx, await connectClient(ctx, cmd), defs, opts.dryRun, opts.strict);
  });

  addConnectOptions(
    group
      .command('patch <name>')
      .description("change some keys of a connector's config, showing the diff first")
      .option('-s, --set <key=value>', 'set a key (repeatable)', collect, [])
      .option('-r, --unset <key>', 'remove a key (repeatable)', collect, [])
      .option('--dry-run', 'show the diff; write nothing', false),
  ).action(async (name: string, opts: { set: string[]; unset: string[]; dryRun: boolean }, cmd: Command) => {
    if (opts.set.length === 0 && opts.unset.length === 0) {
      throw CliError.invalidInput('Nothing to patch.', 'Pass --set key=value and/or --unset key.');
    }
    const assignments = opts.set.map((s) => parseAssignment(s, '--set'));
    const client = await connectClient(ctx, cmd);
    const current = await client.getConnectorConfig(name);
    const next: ConnectorConfig = { ...current };
    for (const [k, v] of assignments) next[k] = v;
    for (const k of opts.unset) {
      if (k === 'name' || k === 'connector.class') {
        throw CliError.invalidInput(
          `Cannot unset "${k}": every connector needs it.`,
          'Set it to another value instead.',
        );
      }
      delete next[k];
    }
    const definition: ConnectorDefinition = { name, config: next, source: 'command line' };
    const [item] = await planApply(client, [definition]);
    await applyPlanned(ctx, client, [item!], opts.dryRun, false);
  });

  addConnectOptions(
    group
      .command('delete <names...>')
      .alias('rm')
      .description('delete connectors (their offsets stay in the offsets topic)')
      .option('--dry-run', 'check they exist; delete nothing', false)
      .option(REGEXP_FLAG, REGEXP_HELP, false),
  ).action(async (patterns: string[], opts: { dryRun: boolean; regexp: boolean }, cmd: Command) => {
    const client = await connectClient(ctx, cmd);
    const names = await selectConnectors(client, patterns, opts.regexp);
    await eachConnector(ctx, names, opts.dryRun ? 'would be deleted' : 'deleted', async (name) => {
      if (opts.dryRun) await client.getConnector(name);
      else await client.deleteConnector(name);
    });
  });

  const lifecycle: Array<[string, string, string, (c: ConnectClient, n: string) => Promise<void>]> = [
    ['pause', 'pause connectors and their tasks', 'paused', (c, n) => c.pauseConnector(n)],
    ['resume', 'resume paused or stopped connectors', 'resumed', (c, n) => c.resumeConnector(n)],
    [
      'stop',
      'stop connectors: tasks shut down and release their resources (Connect ≥ 3.5)',
      'stopped',
      (c, n) => c.stopConnector(n),
    ],
  ];
  for (const [verb, description, done, call] of lifecycle) {
    addConnectOptions(
      group
        .command(`${verb} <names...>`)
        .description(description)
        .option('--dry-run', 'check they exist; change nothing', false)
        .option(REGEXP_FLAG, REGEXP_HELP, false),
    ).action(async (patterns: string[], opts: { dryRun: boolean; regexp: boolean }, cmd: Command) => {
      const client = await connectClient(ctx, cmd);
      const names = await selectConnectors(client, patterns, opts.regexp);
      await eachConnector(ctx, names, opts.dryRun ? `would be ${done}` : done, async (name) => {
        if (opts.dryRun) await client.getConnector(name);
        else await call(client, name);
      });
    });
  }

  addConnectOptions(
    group
      .command('restart <names...>')
      .description('restart connectors; with --include-tasks their tasks too (Connect ≥ 3.0)')
      .option('--include-tasks', 'restart the tasks as well as the connector', false)
      .option('--only-failed', 'restart only instances that are FAILED', false)
      .option('--dry-run', 'check they exist; restart nothing', false)
      .option(REGEXP_FLAG, REGEXP_HELP, false),
  ).action(
    async (
      patterns: string[],
      opts: { includeTasks: boolean; onlyFailed: boolean; dryRun: boolean; regexp: boolean },
      cmd: Command,
    ) => {
      const client = await connectClient(ctx, cmd);
      const names = await selectConnectors(client, patterns, opts.regexp);
      await eachConnector(ctx, names, opts.dryRun ? 'would be restarted' : 'restarted', async (name) => {
        if (opts.dryRun) {
          await client.getConnector(name);
          return {};
        }
        // 202 comes with the instances that restart; 204 (neither flag) restarts the Connector object only.
        const status = await client.restartConnector(name, opts);
        return status ? { status } : {};
      });
    },
  );

  const tasks = program.command('tasks').alias('task').description('operate single connector tasks');
  addConnectOptions(tasks.command('restart <name> <id>').description('restart one task of a connector')).action(
    async (name: string, id: string, _opts: unknown, cmd: Command) => {
      const task = parseTaskId(id);
      await (await connectClient(ctx, cmd)).restartTask(name, task);
      writeResult(ctx, [{ name, task, action: 'restarted' }], () => `task ${task} of connector "${name}" restarted\n`);
    },
  );
}

// ---- list / describe / status ---------------------------------------------------------------------

const STATES = ['RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'UNASSIGNED', 'RESTARTING'];

async function listConnectors(ctx: CliContext, client: ConnectClient, state: string | undefined): Promise<void> {
  const wanted = state?.toUpperCase();
  if (wanted !== undefined && !STATES.includes(wanted)) {
    throw CliError.invalidInput(`Invalid --state "${state}".`, `Use one of: ${STATES.join(', ')}.`);
  }
  const expanded = await client.listConnectorsExpanded();
  const items = Object.entries(expanded)
    .map(([name, e]) => listItem(name, e))
    .filter((i) => wanted === undefined || i.state === wanted)
    .sort((a, b) => a.name.localeCompare(b.name));
  const rows = items.map((i) => ({
    name: i.name,
    type: i.type,
    state: i.state,
    tasks: taskSummary(i.tasks),
    class: i.class,
  }));
  writeTable(ctx, items, rows, ['name', 'type', 'state', 'tasks', 'class']);
}

function listItem(name: string, e: ExpandedConnector) {
  return {
    name,
    type: e.info?.type ?? e.status?.type ?? 'unknown',
    state: e.status?.connector.state ?? 'UNKNOWN',
    worker_id: e.status?.connector.worker_id ?? null,
    class: e.info?.config['connector.class'] ?? null,
    tasks: (e.status?.tasks ?? []).map((t) => ({ id: t.id, state: t.state, worker_id: t.worker_id })),
  };
}

export function statusRows(status: ConnectorStateInfo): Array<Record<string, unknown>> {
  return [
    {
      instance: `connector ${status.name}`,
      state: status.connector.state,
      worker: status.connector.worker_id,
      trace: traceHeadline(status.connector.trace),
    },
    ...status.tasks.map((t) => ({
      instance: `task ${t.id}`,
      state: t.state,
      worker: t.worker_id,
      progress: progressText(t.progress),
      trace: traceHeadline(t.trace),
    })),
  ];
}

/**
 * A task's progress in one cell: a bar for a snapshot ("snapshot erp.shipment [######----] 60% 6,000/10,000"),
 * otherwise its first numeric figures ("parked 12, released 340").
 */
export function progressText(progress: Record<string, unknown> | undefined): string {
  if (!progress) return '';
  const snap = progress.snapshot as { table?: unknown; rows?: unknown; total?: unknown; done?: unknown } | undefined;
  if (snap && typeof snap.rows === 'number') {
    const total = typeof snap.total === 'number' && snap.total > 0 ? snap.total : null;
    const fraction = snap.done === true ? 1 : total === null ? 0 : Math.min(1, snap.rows / total);
    const filled = Math.round(fraction * 10);
    // An empty table's finished snapshot reads "100% 0/0", not a bare "100% 0".
    const shownTotal = total ?? (typeof snap.total === 'number' && snap.done === true ? snap.total : null);
    const counts = `${snap.rows.toLocaleString('en-US')}${shownTotal === null ? '' : `/${shownTotal.toLocaleString('en-US')}`}`;
    return `snapshot ${String(snap.table ?? '')} [${'#'.repeat(filled)}${'-'.repeat(10 - filled)}] ${Math.round(fraction * 100)}% ${counts}`;
  }
  return counterTexts(progress).join(', ');
}

/**
 * Every non-zero counter, in the task's order ("delivered 0" next to "staleDropped 17" hid the one that
 * mattered): numbers as they are, a map of numbers (dlq by reason) as its total with the parts, and what a
 * task waits for (`waiting`) as text.
 */
function counterTexts(progress: Record<string, unknown>): string[] {
  const out: string[] = [];
  const n = (v: number) => v.toLocaleString('en-US');
  for (const [k, v] of Object.entries(progress)) {
    if (typeof v === 'number' && v !== 0 && !k.endsWith('Ms')) out.push(`${k} ${n(v)}`);
    else if (typeof v === 'string' && /waiting|reason/i.test(k) && v !== '') out.push(`${k} ${v}`);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const parts = Object.entries(v as Record<string, unknown>).filter(
        (e): e is [string, number] => typeof e[1] === 'number' && e[1] !== 0,
      );
      const total = parts.reduce((t, [, c]) => t + c, 0);
      if (total > 0) out.push(`${k} ${n(total)} (${parts.map(([p, c]) => `${p} ${n(c)}`).join(', ')})`);
    }
  }
  return out;
}

async function describeConnector(ctx: CliContext, client: ConnectClient, name: string): Promise<void> {
  const [info, status] = await Promise.all([client.getConnector(name), client.getConnectorStatus(name)]);
  // Topic tracking can be disabled (403) and old workers lack the endpoint: the rest still helps.
  const topics = await client.getConnectorTopics(name).catch((error: unknown) => {
    if (error instanceof ConnectApiError) return undefined;
    throw error;
  });
  const config = await masked(client, info.config);
  const value = {
    name: info.name,
    type: info.type,
    class: info.config['connector.class'],
    connector: status.connector,
    tasks: status.tasks,
    ...(topics === undefined ? {} : { topics }),
    config,
  };
  writeResult(ctx, value, (style) => renderDescription(value, style));
}

function renderDescription(
  d: {
    name: string;
    type: string;
    class: string | undefined;
    connector: ConnectorStateInfo['connector'];
    tasks: ConnectorStateInfo['tasks'];
    topics?: string[];
    config: ConnectorConfig;
  },
  style: Style,
): string {
  let out = renderFields(
    [
      ['Name', d.name],
      ['Type', d.type],
      ['Class', d.class ?? ''],
      ['State', d.connector.state],
      ['Worker', d.connector.worker_id],
      ...(d.topics === undefined ? [] : ([['Topics', d.topics.join(', ') || '(none yet)']] as Array<[string, string]>)),
    ],
    style,
  );
  if (d.connector.trace) out += `${style.red('Connector trace:')}\n${indent(d.connector.trace, '  ')}\n`;
  out += `${style.bold('Tasks:')}${d.tasks.length === 0 ? ' (none)' : ''}\n`;
  for (const t of d.tasks) {
    out += `  ${t.id}  ${t.state}  ${t.worker_id}\n`;
    if (t.trace) out += `${indent(t.trace, '     ')}\n`;
  }
  out += `${style.bold('Config:')}\n`;
  const rows = Object.entries(d.config)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
  out += renderTable(rows, ['key', 'value'], { ...style, bold: (t) => t })
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => `  ${l}\n`)
    .join('');
  return out;
}

function indent(text: string, pad: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

async function masked(client: ConnectClient, config: ConnectorConfig): Promise<ConnectorConfig> {
  return maskConfig(config, secretTest(await passwordKeysOf(client, config['connector.class'])));
}

// ---- apply / patch / create ---------------------------------------------------------------------

async function applyConnectors(
  ctx: CliContext,
  client: ConnectClient,
  defs: ConnectorDefinition[],
  dryRun: boolean,
  strict: boolean,
): Promise<void> {
  const plan = await planApply(client, defs);
  await applyPlanned(ctx, client, plan, dryRun, strict);
}

const STRICT_FLAG = '--strict';
const STRICT_HELP = 'treat unknown config keys (typos Connect ignores) as errors';

/**
 * Shows each item's diff (stdout in table mode), validates the changed items with the cluster (errors, and
 * unknown keys as warnings or, with --strict, errors), and writes them unless this is a dry run or one of
 * them was rejected: then nothing is written and the exit code is 2.
 */
async function applyPlanned(
  ctx: CliContext,
  client: ConnectClient,
  plan: ApplyPlanItem[],
  dryRun: boolean,
  strict: boolean,
): Promise<void> {
  const style = styleFor(ctx, 'stdout');
  const human = ctx.output === 'table';
  const results: Array<Record<string, unknown>> = [];
  const validations = new Map<ApplyPlanItem, DefinitionValidation>();
  for (const item of plan) {
    const { name, source } = item.definition;
    const v: DefinitionValidation =
      item.action === 'unchanged' ? { errors: [], warnings: [] } : await validateDefinition(client, item.definition);
    validations.set(item, v);
    if (rejects(v, strict)) ctx.exitCode = ExitCode.INVALID_INPUT;
    if (human) ctx.stdout.write(planHeading(item, style) + renderValidation(v, style, strict));
    if (dryRun || ctx.exitCode === ExitCode.INVALID_INPUT) {
      results.push({ name, source, action: item.action, changes: item.changes, written: false, ...v });
    }
  }
  const rejected = ctx.exitCode === ExitCode.INVALID_INPUT;
  for (const item of dryRun || rejected ? [] : plan) {
    const { name, source } = item.definition;
    const outcome = await executeApply(client, item).catch((error: unknown) => {
      if (!(error instanceof CliError)) throw error;
      const rest = plan.slice(plan.indexOf(item) + 1).map((p) => p.definition.name);
      throw new CliError(
        `${error.message}\n(applying ${source}${rest.length > 0 ? `; not applied: ${rest.join(', ')}` : ''})`,
        { exitCode: error.exitCode, ...(error.hint ? { hint: error.hint } : {}), cause: error },
      );
    });
    if (human && outcome.written)
      ctx.stdout.write(`connector "${name}" ${outcome.action === 'create' ? 'created' : 'updated'}\n`);
    const { warnings } = validations.get(item)!;
    results.push({
      name,
      source,
      action: outcome.action,
      changes: item.changes,
      written: outcome.written,
      ...(warnings.length > 0 ? { warnings } : {}),
    });
  }
  if (human && dryRun) {
    const pending = plan.filter((p) => p.action !== 'unchanged').length;
    ctx.stdout.write(style.dim(`dry run: ${pending} connector(s) would change; nothing was written\n`));
  }
  if (human && rejected) {
    ctx.stderr.write(
      `${styleFor(ctx, 'stderr').red('error:')} the cluster rejects the config keys marked "!" above` +
        (dryRun ? '\n' : '; nothing was written\n'),
    );
  }
  if (!human) writeResult(ctx, results, () => '');
}

function planHeading(item: ApplyPlanItem, style: Style): string {
  const { name, source } = item.definition;
  switch (item.action) {
    case 'unchanged':
      return `connector "${name}" unchanged (${source})\n`;
    case 'create':
      return `${style.bold(`connector "${name}" will be created`)} (${source})\n${renderChanges(item.changes, style)}`;
    case 'update':
      return `${style.bold(`connector "${name}" will be updated`)}: ${summarizeChanges(item.changes)} (${source})\n${renderChanges(item.changes, style)}`;
  }
}

/** Validates every definition with the cluster and prints the outcome; returns the exit code. */
async function validateAndReport(
  ctx: CliContext,
  client: ConnectClient,
  defs: ConnectorDefinition[],
  options: { strict: boolean; dryRun: boolean },
): Promise<number> {
  const style = styleFor(ctx, 'stdout');
  const results: Array<{ name: string; source: string; valid: boolean } & DefinitionValidation> = [];
  for (const def of defs) {
    const v = await validateDefinition(client, def);
    results.push({ name: def.name, source: def.source, valid: !rejects(v, options.strict), ...v });
  }
  const invalid = results.some((r) => !r.valid);
  // A real create prints its own result; only a dry run or a rejection prints the validation.
  if (options.dryRun || invalid) {
    writeResult(ctx, results, () =>
      results
        .map(
          (r) =>
            (r.valid
              ? `connector "${r.name}" is valid (${r.source})${options.dryRun ? '; dry run: nothing was created' : ''}\n`
              : `connector "${r.name}" is invalid (${r.source}):\n`) + renderValidation(r, style, options.strict),
        )
        .join(''),
    );
  } else {
    for (const r of results) ctx.stderr.write(renderValidation(r, styleFor(ctx, 'stderr'), false));
  }
  // As apply says it: without this line a refused create ended on the "!" keys with no error at all.
  if (invalid && ctx.output === 'table') {
    ctx.stderr.write(
      `${styleFor(ctx, 'stderr').red('error:')} the cluster rejects the config keys marked "!" above` +
        (options.dryRun ? '\n' : '; nothing was created\n'),
    );
  }
  return invalid ? ExitCode.INVALID_INPUT : ExitCode.OK;
}

// ---- helpers ------------------------------------------------------------------------------------

function parseTargetState(value: string): TargetState {
  const state = value.toUpperCase();
  if (state === 'RUNNING' || state === 'PAUSED' || state === 'STOPPED') return state;
  throw new InvalidArgumentError('Use RUNNING, PAUSED or STOPPED.');
}

const REGEXP_FLAG = '-e, --regexp';
const REGEXP_HELP = 'the names are regular expressions matched against the whole connector name (kcctl -e)';

/** Names as given, or with -e every connector whose whole name matches one of the patterns. */
async function selectConnectors(client: ConnectClient, patterns: string[], regexp: boolean): Promise<string[]> {
  if (!regexp) return patterns;
  const matchers = patterns.map((p) => {
    try {
      return new RegExp(`^(?:${p})$`);
    } catch (error) {
      throw CliError.invalidInput(`Invalid regular expression "${p}": ${(error as Error).message}.`, undefined, error);
    }
  });
  const names = (await client.listConnectors()).filter((n) => matchers.some((m) => m.test(n))).sort();
  if (names.length === 0) {
    throw new CliError(`No connector matches ${patterns.map((p) => `/${p}/`).join(' or ')}.`, {
      exitCode: ExitCode.FAILURE,
      hint: '`erpstream connectors list` shows the connectors that exist.',
    });
  }
  return names;
}

/** Runs `fn` per connector in order, printing one line each; the first failure stops the rest (and says so). */
async function eachConnector(
  ctx: CliContext,
  names: string[],
  done: string,
  fn: (name: string) => Promise<void | { status?: ConnectorStateInfo }>,
): Promise<void> {
  const results: Array<{ name: string; result: string; status?: ConnectorStateInfo }> = [];
  for (const [i, name] of names.entries()) {
    try {
      results.push({ name, result: done, ...((await fn(name)) ?? {}) });
    } catch (error) {
      flush(ctx, results);
      if (names.length > 1 && error instanceof CliError) {
        const skipped = names.slice(i + 1);
        throw new CliError(`${error.message}${skipped.length ? ` (not attempted: ${skipped.join(', ')})` : ''}`, {
          exitCode: error.exitCode,
          ...(error.hint ? { hint: error.hint } : {}),
          cause: error,
        });
      }
      throw error;
    }
  }
  flush(ctx, results);
}

function flush(ctx: CliContext, results: Array<{ name: string; result: string; status?: ConnectorStateInfo }>): void {
  if (results.length === 0 && ctx.output === 'table') return;
  writeResult(ctx, results, (style) =>
    results
      .map(
        (r) =>
          `connector "${r.name}" ${r.result}\n` +
          (r.status ? renderTable(statusRows(r.status), ['instance', 'state', 'worker', 'trace'], style) : ''),
      )
      .join(''),
  );
}
