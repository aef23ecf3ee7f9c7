#!/usr/bin/env node
/**
 * Entry point of the `erpstream` command. The full CLI lands with its own issue; until then it says
 * plainly which commands exist.
 */
const [command] = process.argv.slice(2);

if (command === 'demo') {
  process.stderr.write('erpstream demo: not yet available. It lands with the CLI/demo work; see README.md "Status".\n');
  process.exit(1);
}
process.stderr.write('usage: erpstream <command>\n  commands available in this build: demo (not yet)\n');
process.exit(command === undefined ? 0 : 2);
