import type { Command } from 'commander';
import { addConnectOptions, collect, connectClient, writeResult, writeTable } from '../connect/command-kit.js';
import { type CliContext, processContext, styleFor } from '../context.js';
import { CliError, ExitCode, classifyError } from '../errors.js';
import { type Style, renderTable } from '../output.js';
import {
  clusterConfigs,
  clusterConnectors,
  executePlan,
  listIntegrations,
  planDeleteIntegration,
} from '../integrations/cluster.js';
import { loadDocuments } from '../../integrations/documents.js';
import { type Expansion, expandDocuments } from '../../integrations/expand.js';
import { type Plan, hasChanges, planSummary, renderPlan } from '../integrations/plan.js';
import { IntegrationFileError, formatProblem } from '../../integrations/problems.js';
import { integrationJsonSchema } from '../../integrations/schema.js';
import { DEFAULT_CLUSTER, computeClusterPlans, resolveClusterTarget, splitByCluster } from '../integrations/targets.js';
import { ConnectClient } from '../connect/client.js';
import { validateExpansion } from '../../integrations/validate.js';
import { checkWithCluster } from '../integrations/cluster-check.js';
import { type WatchOptions, addWatchOption, drawOrWatch } from '../watch.js';
import { unknownConnectorKeys } from '../../integrations/unknown-keys.js';
import { describeOperation, lastOperations, registerOperationCommands } from './integrations-operations.js';

/**
 * `erpstream integrations plan|apply|validate|list|delete|schema`: onboarding a customer with one file.
 * validate and schema work offline; plan, apply, list and delete talk to the cluster.
 */

interface FileOptions {
  file?: string[];
  strict?: boolean;
}

/** Loads, expands and validates offline; throws every problem at once, prints what could not be checked. */
export async function loadIntegrations(
  ctx: CliContext,
  files: readonly string[] | undefined,
  strict = false,
): Promise<Expansion> {
  if (!files || files.length === 0) {
    throw CliError.invalidInput(
      'No integration file given.',
      'Pass -f <file|dir> (repeatable), e.g. -f examples/integrations.',
    );
  }
  const expansion = expandDocuments(await loadDocuments(files));
  if (expansion.integrations.length === 0) {
    throw CliError.invalidInput(
      `No kind: Integration in ${files.join(', ')}.`,
      'Templates (kind: IntegrationTemplate) and sources (kind: Source) are used by integrations; pass the customer files.',
    );
  }
  const report = validateExpansion(expansion);
  const unknown = unknownConnectorKeys(expansion);
  const warnings = strict ? report.warnings : [...report.warnings, ...unknown];
  const problems = strict
    ? [...report.problems, ...unknown.map((u) => ({ ...u, message: `${u.message} (--strict)` }))]
    : report.problems;
  const style = styleFor(ctx, 'stderr');
  for (const w of warnings) ctx.stderr.write(style.yellow(`warning: ${formatProblem(w)}\n`));
  if (problems.length > 0) throw new IntegrationFileError(problems);
  return expansion;
}

function fileOption(cmd: Command): Command {
  return cmd
    .option('-f, --file <path>', 'integration file or directory (repeatable)', collect)
    .option('--strict', 'treat unknown connector config keys (typos Connect ignores) as errors');
}

function writePlan(
  ctx: CliContext,
  plan: Plan,
  extra: Record<string, unknown> = {},
  render: (plan: Plan, style: Style) => string = renderPlan,
): void {
  writeResult(
    ctx,
    { ...extra, items: plan.items.map(({ config: _c, ...i }) => i), untouched: plan.untouched },
    (style) => render(plan, style),
  );
}

export function registerIntegrationCommands(program: Command, ctx: CliContext = processContext()): void {
  const group = program
    .command('integrations')
    .description('onboard customers with integration files: validate, test, plan, apply, list, delete');

  fileOption(group.command('validate'))
    .description(
      "check integration files offline (plugins' config specs, transform chains); -o json prints the connector configs",
    )
    .action(async (opts: FileOptions) => {
      const expansion = await loadIntegrations(ctx, opts.file, opts.strict === true);
      writeResult(
        ctx,
        expansion.connectors.map((c) => ({ name: c.name, config: c.config })),
        (style) =>
          [
            // Aligned like every other listing: names of different lengths made ragged columns.
            renderTable(
              expansion.connectors.map((c) => ({
                connector: c.name,
                role: c.role,
                integrations: `[${c.integrations.join(', ')}]`,
                file: c.file,
              })),
              ['connector', 'role', 'integrations', 'file'],
              style,
            ),
            `${expansion.integrations.length} integration${expansion.integrations.length === 1 ? '' : 's'} valid (${expansion.connectors.length} connectors).\n`,
          ].join(''),
      );
    });

  addConnectOptions(
    fileOption(group.command('plan'))
      .option('--prune', 'also delete connectors of integrations not in these files')
      .option('--summary', 'one line per connector that would change, and the counts (no key diffs)')
      .option('--detailed-exitcode', 'exit 0 when nothing would change, 2 when changes are pending, 1 on any error'),
  )
    .description('show what apply would create, update and delete on the cluster')
    .action(
      async (opts: FileOptions & { prune?: boolean; summary?: boolean; detailedExitcode?: boolean }, cmd: Command) => {
        if (!opts.detailedExitcode) {
          await planCommand(ctx, cmd, opts);
          return;
        }
        // Terraform's contract, for CI: 2 means "changes pending", so every error is 1 here.
        try {
          const pending = await planCommand(ctx, cmd, opts);
          ctx.exitCode = ctx.exitCode !== ExitCode.OK ? ExitCode.FAILURE : pending ? 2 : ExitCode.OK;
        } catch (error) {
          const { message, hint } = classifyError(error);
          throw new CliError(message, { exitCode: ExitCode.FAILURE, hint, cause: error });
        }
      },
    );

  addConnectOptions(
    fileOption(group.command('apply'))
      .option('--dry-run', 'show the plan without writing')
      .option('--prune', 'also delete connectors of integrations not in these files'),
  )
    .description('create, update and delete connectors so the cluster matches the files (idempotent)')
    .action(async (opts: FileOptions & { dryRun?: boolean; prune?: boolean }, cmd: Command) => {
      const expansion = await loadIntegrations(ctx, opts.file, opts.strict === true);
      const targets = await planClusters(ctx, cmd, expansion, opts.prune === true);
      let rejected = false;
      for (const t of targets)
        rejected = (await checkWithCluster(ctx, t.client, t.plan, opts.strict === true)).rejected || rejected;
      if (rejected) {
        throw CliError.invalidInput(
          'The cluster rejects the connector configs marked "!" above; nothing was written.',
          "Fix them (a `${env:…}` the worker cannot resolve is set in the worker's environment, not here) and apply again.",
        );
      }
      // Other clusters first: a Debezium source must exist before the sinks that read its topics.
      for (const t of [...targets].reverse()) {
        if (targets.length > 1 && ctx.output === 'table') ctx.stdout.write(`Cluster ${t.label}:\n`);
        await runPlan(ctx, t.client, t.plan, opts.dryRun === true);
      }
    });

  addWatchOption(addConnectOptions(group.command('list')))
    .description('integrations found on the cluster (by their erpstream.integration label)')
    .action(async (opts: WatchOptions, cmd: Command) => {
      const client = await connectClient(ctx, cmd);
      await drawOrWatch(ctx, opts, async (c) => {
        const [expanded, last] = await Promise.all([clusterConnectors(client), lastOperations(client)]);
        // The newest reconcile/repair/replay/redrive of each customer (erpstream workers only).
        const rows = listIntegrations(expanded).map((r) => ({
          ...r,
          ...(last.has(r.integration) ? { lastOperation: last.get(r.integration) } : {}),
        }));
        writeTable(
          c,
          rows,
          rows.map((r) => ({ ...r, lastOperation: describeOperation(r.lastOperation) })),
          ['integration', 'source', 'connectors', 'states', 'tasks', ...(last.size > 0 ? ['lastOperation'] : [])],
        );
      });
    });

  addConnectOptions(
    group.command('delete').argument('<name>', 'integration name').option('--dry-run', 'show what would be deleted'),
  )
    .description("delete an integration's connectors (its source too, when no other integration uses it)")
    .action(async (name: string, opts: { dryRun?: boolean }, cmd: Command) => {
      const client = await connectClient(ctx, cmd);
      const plan = planDeleteIntegration(name, clusterConfigs(await clusterConnectors(client)));
      if (plan.items.length === 0) {
        throw new CliError(`No connector on the cluster belongs to integration "${name}".`, {
          exitCode: 1,
          hint: '`erpstream integrations list` shows the integrations the cluster holds.',
        });
      }
      await runPlan(ctx, client, plan, opts.dryRun === true);
    });

  fileOption(group.command('test'))
    .description('run the golden tests next to the files (<name>.test.yaml) offline; exit 1 when one fails')
    .action(async (opts: FileOptions) => {
      const expansion = await loadIntegrations(ctx, opts.file, opts.strict === true);
      const { findGoldenFiles, readGoldenFile, renderDiff, runGoldenFile } =
        await import('../../integrations/golden.js');
      const files = await findGoldenFiles(opts.file ?? []);
      if (files.length === 0) {
        throw CliError.invalidInput(
          `No golden test file (<name>.test.yaml) in ${(opts.file ?? []).join(', ')}.`,
          'Write one next to the integration file; see docs/integrations.md, "Golden tests".',
        );
      }
      const results: Awaited<ReturnType<typeof runGoldenFile>> = [];
      for (const f of files) results.push(...(await runGoldenFile(expansion, await readGoldenFile(f))));
      const failed = results.filter((r) => !r.passed);
      writeResult(ctx, results, (style) =>
        [
          ...results.map((r) =>
            r.passed
              ? `${style.bold('PASS')} ${r.integration} / ${r.name} (${r.connector})\n`
              : `${style.red('FAIL')} ${r.integration} / ${r.name} (${r.connector}, ${r.file})\n` +
                (r.error ? `  ${r.error}\n` : `${renderDiff(r.expected, r.actual)}\n`),
          ),
          `\n${results.length - failed.length} of ${results.length} cases passed.\n`,
        ].join(''),
      );
      if (failed.length > 0) ctx.exitCode = ExitCode.FAILURE;
    });

  addConnectOptions(
    group
      .command('reconcile')
      .argument('<customer>', "the integration's metadata.name")
      .option('--sample <n>', 'differences listed per class (default 10)')
      .option('--repair', 're-deliver missing and stale entities and withdraw extra ones, then report'),
  )
    .description(
      'compare what the customer should hold (origin), what was recorded (ledger) and what its destinations hold; exit 0 in sync, 2 not',
    )
    .action(async (customer: string, opts: { sample?: string; repair?: boolean }, cmd: Command) => {
      const { reconcileCommand } = await import('../integrations/reconcile.js');
      await reconcileCommand(ctx, cmd, customer, opts);
    });

  group
    .command('schema')
    .description('print the JSON Schema of integration files (for editors and CI)')
    .action(() => {
      const schema = integrationJsonSchema();
      writeResult(ctx, schema, () => `${JSON.stringify(schema, null, 2)}\n`);
    });

  // replay, redeliver, operations (cli/commands/integrations-operations.ts).
  registerOperationCommands(group, ctx);
}

/** `integrations plan`; returns whether any cluster would change. */
async function planCommand(
  ctx: CliContext,
  cmd: Command,
  opts: FileOptions & { prune?: boolean; summary?: boolean },
): Promise<boolean> {
  const expansion = await loadIntegrations(ctx, opts.file, opts.strict === true);
  const targets = await planClusters(ctx, cmd, expansion, opts.prune === true);
  for (const t of targets) {
    if ((await checkWithCluster(ctx, t.client, t.plan, opts.strict === true)).rejected) {
      ctx.exitCode = ExitCode.INVALID_INPUT;
    }
  }
  const pending = targets.some((t) => hasChanges(t.plan));
  const render = (plan: Plan, style: Style) => (opts.summary ? renderPlanSummary(plan) : renderPlan(plan, style));
  if (targets.length === 1) {
    writePlan(ctx, targets[0]!.plan, {}, render);
    return pending;
  }
  if (ctx.output !== 'table') {
    writeResult(
      ctx,
      targets.map((t) => ({
        cluster: t.label,
        items: t.plan.items.map(({ config: _c, ...i }) => i),
        untouched: t.plan.untouched,
      })),
      () => '',
    );
    return pending;
  }
  const style = styleFor(ctx, 'stdout');
  for (const t of targets) ctx.stdout.write(`${style.bold(`Cluster ${t.label}:`)}\n${render(t.plan, style)}`);
  return pending;
}

/** `plan --summary`: what would change, one line each, then the counts. */
function renderPlanSummary(plan: Plan): string {
  const changing = plan.items.filter((i) => i.action !== 'unchanged');
  return [...changing.map((i) => `${i.action} ${i.role} ${i.name}`), planSummary(plan)].join('\n') + '\n';
}

/**
 * One plan per Connect cluster: ours (the command's --connect-url/context) and any cluster a Debezium
 * source names in `source.cluster`. Ours comes first.
 */
async function planClusters(
  ctx: CliContext,
  cmd: Command,
  expansion: Expansion,
  prune: boolean,
): Promise<Array<{ key: string; label: string; client: ConnectClient; plan: Plan }>> {
  const ours = await connectClient(ctx, cmd);
  const targets: Array<{ key: string; label: string; client: ConnectClient }> = [
    { key: DEFAULT_CLUSTER, label: "erpstream's (--connect-url / context)", client: ours },
  ];
  for (const key of splitByCluster(expansion).keys()) {
    if (key === DEFAULT_CLUSTER) continue;
    const t = await resolveClusterTarget(key, ctx.env);
    targets.push({
      key,
      label: t.url,
      client: new ConnectClient({ url: t.url, auth: t.auth, timeoutMs: t.timeoutMs }),
    });
  }
  const configs = new Map<string, ReturnType<typeof clusterConfigs>>();
  for (const t of targets) configs.set(t.key, clusterConfigs(await clusterConnectors(t.client)));
  const plans = computeClusterPlans(expansion, configs, { prune });
  return targets.map((t) => ({ ...t, plan: plans.get(t.key)! }));
}

async function runPlan(
  ctx: CliContext,
  client: Awaited<ReturnType<typeof connectClient>>,
  plan: Plan,
  dryRun: boolean,
): Promise<void> {
  const style = styleFor(ctx, 'stdout');
  if (ctx.output === 'table') ctx.stdout.write(renderPlan(plan, style));
  if (dryRun || !hasChanges(plan)) {
    if (ctx.output !== 'table') writePlan(ctx, plan, { dryRun, applied: [] });
    else if (dryRun && hasChanges(plan)) ctx.stdout.write('Dry run: nothing was written.\n');
    return;
  }
  const applied = await executePlan(client, plan, (r) => {
    if (ctx.output === 'table')
      ctx.stdout.write(
        `${r.name}: ${r.action === 'delete' ? 'deleted' : r.action === 'create' ? 'created' : 'updated'}\n`,
      );
  });
  if (ctx.output !== 'table') writePlan(ctx, plan, { dryRun, applied: applied.filter((a) => a.written) });
  else {
    const n = (a: string) => applied.filter((r) => r.written && r.action === a).length;
    ctx.stdout.write(`Done: ${n('create')} created, ${n('update')} updated, ${n('delete')} deleted.\n`);
  }
}
