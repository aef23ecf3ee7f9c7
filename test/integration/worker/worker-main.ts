// Runs `erpstream worker …` through registerWorkerCommands until cli/main.ts wires the command in.
import { Command } from 'commander';
import { registerWorkerCommands } from '../../../cli/commands/worker.js';

const program = new Command('erpstream');
registerWorkerCommands(program);
await program.parseAsync(process.argv);
