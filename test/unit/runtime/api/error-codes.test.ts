import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConfigError,
  ErpStreamError,
  FeatureDisabledError,
  InvalidRequestError,
  LeaderRefusedError,
  NotFoundError,
  NotSupportedError,
  PluginNotFoundError,
  RebalanceInProgressError,
  RetriableError,
  errorCatalog,
  errorCodes,
  formatErrorMessage,
  isErrorCode,
} from '../../../../runtime/api/index.js';
import { HTTP_STATUS_BY_CODE, httpStatusOf } from '../../../../runtime/rest/error-status.js';

const root = path.resolve(import.meta.dirname, '../../../..');
/** Where code a user can meet lives (bench/ and test/ are not shipped). */
const SOURCE_DIRS = ['runtime', 'connectors', 'transforms', 'cli', 'bin'];

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(root, d));
  return out;
}

/** The table docs/errors.md must carry between its markers: code, retriable, REST status, meaning. */
function expectedTable(): string {
  const rows = errorCodes.map((code) => {
    const spec = errorCatalog[code];
    const status = HTTP_STATUS_BY_CODE[code] ?? 500;
    return `| \`${code}\` | ${spec.retriable ? 'yes' : 'no'} | ${status} | ${spec.meaning.replace(/\|/g, '\\|')} |`;
  });
  return ['| code | retriable | REST status | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

describe('the error-code catalog', () => {
  it('is documented in docs/errors.md, code by code, with its retriable flag and REST status', () => {
    const doc = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
    const block = /<!-- error-codes:start -->\n([\s\S]*?)\n<!-- error-codes:end -->/.exec(doc)?.[1];
    expect(block?.trim(), 'regenerate the table in docs/errors.md from runtime/api/error-codes.ts').toBe(
      expectedTable(),
    );
  });

  it('lists every code the source throws or matches on', () => {
    // A code is spelled where an error is built (`new XError('CODE'`, `code: 'CODE'`, `code = 'CODE'`) or matched
    // (`code === 'CODE'`). Node's and libraries' own codes (ENOENT, HPE_…, commander.…) carry no owner prefix.
    const owned = /^(ERPSTREAM|LOOKUP_SINK|ERP_SOURCE)_/;
    const spelled = /(?:\bcode\s*(?:===|!==|[:=])\s*|Error\(\s*)'([A-Z][A-Z0-9_]+)'/g;
    const unknown: string[] = [];
    let seen = 0;
    for (const file of sourceFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(spelled)) {
        if (!owned.test(m[1]!)) continue;
        seen++;
        if (!isErrorCode(m[1])) unknown.push(`${path.relative(root, file)}: ${m[1]}`);
      }
    }
    expect(seen).toBeGreaterThan(10); // the pattern still finds the codes it is meant to check
    expect(unknown).toEqual([]);
  });

  it('has no bare `new Error(` that does not say why (an invariant, not a message for users)', () => {
    const unexplained: string[] = [];
    for (const file of sourceFiles()) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!/\bnew Error\(/.test(line)) return;
        const above = lines.slice(Math.max(0, i - 2), i + 1).join('\n');
        if (!/\/\/|\/\*|^\s*\*/m.test(above)) unexplained.push(`${path.relative(root, file)}:${i + 1}`);
      });
    }
    expect(unexplained).toEqual([]);
  });

  it('gives each code a one-owner prefix and a message template', () => {
    for (const code of errorCodes) {
      expect(code).toMatch(/^(ERPSTREAM|LOOKUP_SINK)_[A-Z0-9_]+$/);
      expect(errorCatalog[code].message.length).toBeGreaterThan(0);
    }
  });

  it('fills the message template from params and takes retriable from the catalog', () => {
    const e = new ErpStreamError('ERPSTREAM_TOPIC_NOT_READY', undefined, { params: { topic: 'orders' } });
    expect(e.message).toBe('Topic orders has no partitions in the metadata yet (does it exist?)');
    expect(e.retriable).toBe(true);
    expect(new ErpStreamError('ERPSTREAM_CONFIG', 'x').retriable).toBe(false);
    expect(new ErpStreamError('ERPSTREAM_KAFKA_UNAVAILABLE', 'x', { retriable: false }).retriable).toBe(false);
    expect(formatErrorMessage('ERPSTREAM_NOT_FOUND', { what: 'connector' })).toBe('Unknown connector: {name}');
    expect(new RetriableError('down').code).toBe('ERPSTREAM_RETRIABLE');
  });
});

describe('the REST edge', () => {
  it("answers each domain error with Connect's status", () => {
    expect(httpStatusOf(new NotFoundError('Unknown connector: a'))).toBe(404);
    expect(httpStatusOf(new AlreadyExistsError('Connector a already exists'))).toBe(409);
    expect(httpStatusOf(new RebalanceInProgressError())).toBe(409);
    expect(httpStatusOf(new InvalidRequestError('bad'))).toBe(400);
    expect(httpStatusOf(new FeatureDisabledError('Topic tracking is disabled.'))).toBe(403);
    expect(httpStatusOf(new NotSupportedError('later'))).toBe(501);
    expect(httpStatusOf(ConfigError.missing('topics'))).toBe(400);
    expect(httpStatusOf(new PluginNotFoundError('transform', 'Nope'))).toBe(400);
    expect(httpStatusOf(new ErpStreamError('ERPSTREAM_CONNECTOR_CLASS_UNKNOWN', 'x'))).toBe(400);
    // A forwarded request keeps whatever the leader answered, not its own code's mapping.
    expect(httpStatusOf(new LeaderRefusedError(404, 'Unknown connector: a'))).toBe(404);
    // Unmapped codes and foreign errors are the caller's decision (the server answers 500).
    expect(httpStatusOf(new ErpStreamError('ERPSTREAM_KAFKA_REFUSED', 'x'))).toBeUndefined();
    expect(httpStatusOf(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBeUndefined();
    // By code, so an error from another copy of the module (or rebuilt from a log) maps the same.
    expect(httpStatusOf({ code: 'ERPSTREAM_NOT_FOUND', message: 'x' })).toBe(404);
  });

  it('maps only catalog codes', () => {
    for (const code of Object.keys(HTTP_STATUS_BY_CODE)) expect(isErrorCode(code), code).toBe(true);
  });
});
