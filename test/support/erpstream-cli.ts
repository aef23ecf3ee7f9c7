import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');

/** The repository root, whether this module runs from source or from dist/. */
export const repoRoot = path.resolve(here, compiled ? '../../..' : '../..');

/**
 * How to run the real `erpstream` command in a child process: the compiled CLI when the caller is compiled
 * (benchmarks), the TypeScript source through tsx otherwise (tests).
 */
export function erpstreamCommand(...args: string[]): { command: string; args: string[]; cwd: string } {
  return compiled
    ? { command: process.execPath, args: [path.join(repoRoot, 'dist/cli/main.js'), ...args], cwd: repoRoot }
    : {
        command: process.execPath,
        args: ['--import', 'tsx', path.join(repoRoot, 'cli/main.ts'), ...args],
        cwd: repoRoot,
      };
}
