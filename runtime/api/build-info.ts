import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * erpstream's own version and commit, in one place: what `GET /` reports, what built-in plugins report and what
 * `erpstream --version` prints. The version comes from package.json; the commit from ERPSTREAM_COMMIT, else the
 * `dist/build-info.json` that `npm run build` writes (when running from dist: a package or image has no .git), else
 * the git checkout the code runs from, else "unknown". Read once, synchronously, at first use.
 */
export interface BuildInfo {
  version: string;
  /** Like Connect's: the first 16 hex digits of the commit id. */
  commit: string;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The package root: the nearest directory above this module whose package.json is erpstream's (src or dist). */
function packageRoot(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (readJson(path.join(dir, 'package.json'))?.name === 'erpstream') return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

const SHA = /^[0-9a-f]{40}$/;

/** HEAD's commit without running git: follows `.git` files (worktrees), loose refs and packed-refs. */
export function gitCommit(root: string): string | null {
  try {
    let gitDir = path.join(root, '.git');
    if (!existsSync(gitDir)) return null;
    try {
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(gitDir, 'utf8'));
      if (m) gitDir = path.resolve(root, m[1]!.trim());
    } catch {
      // .git is a directory (EISDIR): use it as is
    }
    const common = existsSync(path.join(gitDir, 'commondir'))
      ? path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim())
      : gitDir;
    const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (SHA.test(head)) return head;
    const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
    if (!ref) return null;
    for (const dir of [gitDir, common]) {
      const loose = path.join(dir, ref);
      if (existsSync(loose)) {
        const sha = readFileSync(loose, 'utf8').trim();
        if (SHA.test(sha)) return sha;
      }
    }
    const packed = path.join(common, 'packed-refs');
    if (existsSync(packed)) {
      for (const line of readFileSync(packed, 'utf8').split('\n')) {
        const [sha, name] = line.trim().split(' ');
        if (name === ref && sha && SHA.test(sha)) return sha;
      }
    }
  } catch {
    // not a readable checkout
  }
  return null;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const root = packageRoot();
  const pkg = root ? readJson(path.join(root, 'package.json')) : null;
  // build-info.json describes the compiled code only: sources run by tsx follow the checkout's HEAD instead
  const fromDist = root !== null && fileURLToPath(import.meta.url).startsWith(path.join(root, 'dist') + path.sep);
  const built = fromDist ? (readJson(path.join(root, 'dist', 'build-info.json')) ?? {}) : {};
  const version = typeof pkg?.version === 'string' ? pkg.version : 'unknown';
  const commit =
    process.env.ERPSTREAM_COMMIT?.trim() ||
    (typeof built.commit === 'string' && built.commit) ||
    (root ? gitCommit(root) : null) ||
    'unknown';
  cached = { version, commit: SHA.test(commit) ? commit.slice(0, 16) : commit };
  return cached;
}
