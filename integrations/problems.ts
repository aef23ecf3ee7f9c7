import { ErpStreamError } from '../runtime/api/index.js';

/**
 * A problem in an integration file, located the way an operator fixes it: the file, then the field path
 * inside it (`customers/acme.yaml: sink.destination.topic: …`). Validation collects every problem before
 * failing, so one run lists everything to fix.
 */
export interface Problem {
  file: string;
  /** Dotted field path inside the document (`sink.dependencies.person.type`), '' for the whole file. */
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return p.path === '' ? `${p.file}: ${p.message}` : `${p.file}: ${p.path}: ${p.message}`;
}

/**
 * An integration (or golden test) file this library cannot compile, with what to do about it. The CLI reports it as
 * invalid input (exit 2) with the hint.
 */
export class IntegrationError extends ErpStreamError {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super('ERPSTREAM_INTEGRATION_FILE', message);
  }
}

export class IntegrationFileError extends IntegrationError {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    const lines = problems.map(formatProblem);
    super(
      problems.length === 1 ? lines[0]! : `${problems.length} problems in integration files:\n  ${lines.join('\n  ')}`,
      'Fix the fields named above; `erpstream integrations schema` prints the file format as JSON Schema.',
    );
    this.problems = problems;
  }
}

/** Collects problems for one file; `fail()` throws them all at once when any were found. */
export class ProblemList {
  readonly items: Problem[] = [];

  add(file: string, path: string, message: string): void {
    // A section read once per sink would otherwise report the same problem once per sink.
    if (this.items.some((p) => p.file === file && p.path === path && p.message === message)) return;
    this.items.push({ file, path, message });
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  throwIfAny(): void {
    if (this.items.length > 0) throw new IntegrationFileError(this.items);
  }
}

/** A path segment appended to a dotted path; keys that contain dots are bracketed so the path stays readable. */
export function childPath(parent: string, key: string | number): string {
  const seg = typeof key === 'number' ? `[${key}]` : /^[A-Za-z0-9_$-]+$/.test(key) ? key : `["${key}"]`;
  if (parent === '') return typeof key === 'number' ? seg : seg.replace(/^\["/, '["');
  return typeof key === 'number' || seg.startsWith('[') ? `${parent}${seg}` : `${parent}.${seg}`;
}
