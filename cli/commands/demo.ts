import { setMaxListeners } from 'node:events';
import { type Command, Option } from 'commander';
import { writeResult } from '../connect/command-kit.js';
import { type CliContext, styleFor } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { ProgressLine } from '../demo/progress.js';

interface DemoCliOptions {
  duration: string;
  pgUrl?: string;
  keep?: boolean;
  format: 'avro' | 'json';
  integrations?: string;
  rate?: string;
}

/** `erpstream demo`: the whole product in one command (see docs/demo.md). */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run the ERP → Kafka → per-customer demo end to end and prove nothing was lost')
    .option('--duration <time>', 'how long the operations team works (e.g. 20s, 2m)', '60s')
    .option(
      '--pg-url <url>',
      'PostgreSQL server for the demo ERP (a fresh database is created on it; default: PG_URL of the local stack)',
    )
    .option('--keep', 'keep the stack, topics and ERP database after the run (for erpstream tail, psql)')
    .addOption(
      new Option('--format <format>', 'how the worker writes records').choices(['avro', 'json']).default('avro'),
    )
    .option('--integrations <dir>', 'integration files to apply (default: examples/integrations)')
    .option('--rate <n>', 'operations per second of the simulated team', '20')
    .addHelpText(
      'after',
      '\nExit code 0 only when every origin row reached its customer and every poison row is in the dead-letter topic.\n',
    )
    .action(async (opts: DemoCliOptions) => {
      // Loaded on use: `erpstream --help` must not pay for the demo's worker, database and Kafka clients.
      const { parseDuration, runDemo } = await import('../demo/run.js');
      const { renderSummary } = await import('../demo/summary.js');
      const durationMs = parseDuration(opts.duration);
      const rate = Number(opts.rate);
      if (!Number.isFinite(rate) || rate <= 0 || rate > 500) {
        throw CliError.invalidInput(
          `--rate "${opts.rate}" is not a rate.`,
          'Give operations per second, from 1 to 500.',
        );
      }
      // Humans get the story on stdout; with -o json/yaml stdout carries only the summary document.
      const narrative = ctx.output === 'table' ? ctx.stdout : ctx.stderr;
      const style = styleFor(ctx, ctx.output === 'table' ? 'stdout' : 'stderr');
      const progress = new ProgressLine(narrative);
      const abort = new AbortController();
      // The simulator waits on this signal between thousands of operations.
      setMaxListeners(0, abort.signal);
      const onSignal = () => {
        narrative.write(
          '\nInterrupted: stopping the operations team and cleaning up (Ctrl-C again to quit at once)…\n',
        );
        abort.abort();
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      try {
        const result = await runDemo({
          durationMs,
          pgUrl: opts.pgUrl,
          keep: opts.keep === true,
          format: opts.format,
          ...(opts.integrations ? { integrationsDir: opts.integrations } : {}),
          rate,
          env: ctx.env,
          log: (line) => {
            progress.done();
            narrative.write(`${style.dim('▸')} ${line}\n`);
          },
          progress,
          signal: abort.signal,
        });
        if (result.interrupted || !result.summary) {
          narrative.write('The demo was interrupted before its summary.\n');
          ctx.exitCode = ExitCode.FAILURE;
          return;
        }
        const summary = result.summary;
        const ledger = result.ledger;
        if (ledger) {
          const long = ledger.longTransaction;
          narrative.write(
            `${style.dim('▸')} The team wrote ${result.final?.written ?? '?'} row changes in ${ledger.operations} operations: ` +
              `${ledger.races.documentsBeforeRegistration} documents before their domain registration, ` +
              `${ledger.races.phonesBeforePersons} phones before their person` +
              (long?.committedAt ? `, a long transaction held open ${(long.heldMs / 1000).toFixed(1)} s` : '') +
              `; up to ${result.peakParked} rows were parked at once, waiting for what they depend on.\n`,
          );
        }
        const doc = {
          runId: result.runId,
          ...summary,
          races: ledger?.races,
          longTransaction: ledger?.longTransaction,
          operations: ledger?.operations,
          peakParked: result.peakParked,
          final: result.final,
        };
        writeResult(ctx, doc, (s) => `\n${renderSummary(summary, s)}`);
        ctx.exitCode = result.summary.ok ? ExitCode.OK : ExitCode.FAILURE;
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}
