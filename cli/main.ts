#!/usr/bin/env node
/** Entry point of the `erpstream` command (package.json bin → dist/cli/main.js; `npx tsx cli/main.ts`). */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
