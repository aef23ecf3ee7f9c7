#!/usr/bin/env node
// The `erpstream` command (package.json "bin"). In a clone, where the TypeScript sources and tsx (a dev
// dependency) are present, it runs the sources through tsx's ESM loader: no build step after `npm install`,
// and never a stale build. Where the sources are not there (the published package ships dist/ only) it runs
// the compiled CLI. ERPSTREAM_CLI=dist forces the compiled CLI (after `npm run build`), e.g. for timing.
import { existsSync } from 'node:fs';
import { nodeTooOld } from './node-version.js';

const tooOld = nodeTooOld(process.versions.node);
if (tooOld) {
  process.stderr.write(tooOld);
  process.exit(2);
}

const sources = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const preferDist = process.env.ERPSTREAM_CLI === 'dist' && existsSync(compiled);
const tsx = !preferDist && existsSync(sources) ? await loadTsx() : undefined;
if (tsx) {
  // A third-party plugin on plugin.path imports `erpstream/api`: from a clone it must get these very sources (the
  // package's "erpstream-source" export condition), not a build in dist/ that would be a second copy of the API.
  const { registerHooks } = await import('node:module');
  registerHooks?.({
    resolve: (specifier, context, next) =>
      next(specifier, { ...context, conditions: [...context.conditions, 'erpstream-source'] }),
  });
  tsx.register();
  await import(sources.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    'error: erpstream is not built and its TypeScript sources cannot run here.\n' +
      'hint: run `npm install` in the erpstream folder (it installs tsx), or `npm run build`.\n',
  );
  process.exitCode = 2;
}
