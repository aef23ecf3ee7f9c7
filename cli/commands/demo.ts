import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import type { CliContext } from '../context.js';

/** `erpstream demo`: the end-to-end demo lands with its own issue; until then say so plainly. */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run the ERP → Kafka → per-customer demo (not yet available)')
    .action(() => {
      ctx.stderr.write('erpstream demo: not yet available. It lands with the CLI/demo work; see README.md "Status".\n');
      ctx.exitCode = ExitCode.FAILURE;
    });
}
