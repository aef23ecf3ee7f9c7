import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, type Logger, type PluginDescriptor, type PluginRegistrar } from '../api/index.js';
import type { PluginRegistry } from './registry.js';

/** The worker key (Connect's name): directories holding third-party plugin packages, comma-separated. */
export const PLUGIN_PATH_CONFIG = 'plugin.path';

/** What one plugin package added, for the start-up log. */
export interface LoadedPluginPackage {
  dir: string;
  name: string;
  version: string;
  plugins: string[];
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  erpstream?: { plugins?: unknown };
}

async function readPackageJson(dir: string): Promise<PackageJson | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'package.json'), 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as PackageJson;
  } catch (e) {
    throw new ConfigError(
      `${PLUGIN_PATH_CONFIG}: ${path.join(dir, 'package.json')} is not valid JSON: ${(e as Error).message}`,
      PLUGIN_PATH_CONFIG,
    );
  }
}

/** What a package's code threw, as text: it may throw anything (null, a string, an object without a message). */
function reason(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return `threw ${JSON.stringify(e) ?? String(e)}`;
  } catch {
    return `threw ${String(e)}`;
  }
}

/** A package is a plugin package when its package.json names its entry under `erpstream.plugins`. */
function entryOf(pkg: PackageJson | null): string | null {
  const entry = pkg?.erpstream?.plugins;
  return typeof entry === 'string' && entry.trim() !== '' ? entry.trim() : null;
}

/** The entry's PluginPackageEntry: its default export, else a named `register`; a function or an object with one. */
function registerFunction(mod: Record<string, unknown>): ((r: PluginRegistrar) => unknown) | null {
  for (const candidate of [mod.default, mod.register]) {
    if (typeof candidate === 'function') return candidate as (r: PluginRegistrar) => unknown;
    const register = (candidate as { register?: unknown } | null | undefined)?.register;
    if (typeof register === 'function') return (r) => (register as (r: PluginRegistrar) => unknown).call(candidate, r);
  }
  return null;
}

async function loadPackage(registry: PluginRegistry, dir: string, pkg: PackageJson): Promise<LoadedPluginPackage> {
  const name = typeof pkg.name === 'string' ? pkg.name : path.basename(dir);
  const where = `${PLUGIN_PATH_CONFIG}: plugin package ${name} (${dir})`;
  const entry = path.resolve(dir, entryOf(pkg)!);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(
      `${where}: cannot load its entry ${entry} (package.json erpstream.plugins): ${reason(e)}`,
      PLUGIN_PATH_CONFIG,
    );
  }
  const register = registerFunction(mod);
  if (register === null) {
    throw new ConfigError(
      `${where}: ${entry} exports no register function (export default function register(registrar) { … })`,
      PLUGIN_PATH_CONFIG,
    );
  }
  const added: string[] = [];
  const registrar: PluginRegistrar = {
    register(plugin: PluginDescriptor) {
      try {
        registry.register(plugin);
      } catch (e) {
        // An installed plugin is never replaced from plugin.path: the worker would run other code than configured.
        throw new ConfigError(`${where}: ${reason(e)}`, PLUGIN_PATH_CONFIG);
      }
      added.push(plugin.className);
    },
  };
  try {
    await register(registrar);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${where}: its register function failed: ${reason(e)}`, PLUGIN_PATH_CONFIG);
  }
  return { dir, name, version: typeof pkg.version === 'string' ? pkg.version : '', plugins: added };
}

/** Whether a symbolic link leads to a directory; a loop or a dangling link is logged and skipped. */
async function linkedDirectory(link: string, logger: Logger | undefined): Promise<boolean> {
  try {
    return (await stat(link)).isDirectory();
  } catch (e) {
    logger?.warn(`${PLUGIN_PATH_CONFIG}: skipping ${link}: ${reason(e)}`);
    return false;
  }
}

/**
 * Connect's plugin.path for ESM packages: each directory is a plugin package itself or holds plugin packages, one
 * per subdirectory. A package's `package.json` names its ESM entry under `erpstream.plugins`; the entry's default
 * export (or `register`) is given a registrar and adds its components to the worker's registry. Any failure
 * stops the start with a ConfigError naming the package: a worker missing a configured plugin must not run.
 */
export async function loadPluginPath(
  registry: PluginRegistry,
  dirs: readonly string[],
  logger?: Logger,
): Promise<LoadedPluginPackage[]> {
  const loaded: LoadedPluginPackage[] = [];
  const seen = new Set<string>();
  for (const given of dirs) {
    const dir = path.resolve(given);
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) throw ConfigError.invalid(PLUGIN_PATH_CONFIG, given, 'Not a directory');
    const own = await readPackageJson(dir);
    if (entryOf(own) !== null) {
      const real = await realpath(dir);
      if (!seen.has(real)) loaded.push(await loadPackage(registry, dir, own!));
      seen.add(real);
      continue;
    }
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      const pkgDir = path.join(dir, e.name);
      // A link to a package directory is one (pkg -> pkg-1.2.3); a loop or a dangling link is nothing to load.
      if (!e.isDirectory() && !(e.isSymbolicLink() && (await linkedDirectory(pkgDir, logger)))) continue;
      const pkg = await readPackageJson(pkgDir);
      if (entryOf(pkg) === null) continue; // not a plugin package (node_modules, data)
      // One package reached twice (a link beside its target) is loaded once: twice, its plugins would clash.
      const real = await realpath(pkgDir);
      if (seen.has(real)) continue;
      seen.add(real);
      loaded.push(await loadPackage(registry, pkgDir, pkg!));
    }
  }
  for (const p of loaded) {
    logger?.info(`Loaded plugin package ${p.name} ${p.version}`.trim(), { dir: p.dir, plugins: p.plugins });
  }
  return loaded;
}
