import { stringify as toYaml } from 'yaml';
import { stringifyJsonExact } from '../runtime/api/exact-json.js';
import { CliError } from './errors.js';

/** How commands print results: `-o table|json|yaml`. Colour only on a TTY and never with NO_COLOR. */
export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw CliError.invalidInput(
    `Invalid output format "${value}".`,
    `Use one of: ${OUTPUT_FORMATS.join(', ')} (e.g. -o json).`,
  );
}

export interface ColorTarget {
  readonly isTTY?: boolean;
}

/** https://no-color.org: any non-empty NO_COLOR disables colour; FORCE_COLOR (not "0") forces it. */
export function colorEnabled(stream: ColorTarget, env: NodeJS.ProcessEnv, noColorFlag = false): boolean {
  if (noColorFlag || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export interface Style {
  bold(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
export const colorStyle: Style = { bold: sgr(1, 22), red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22) };
export const plainStyle: Style = { bold: (t) => t, red: (t) => t, yellow: (t) => t, dim: (t) => t };

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(cell).join(', ');
  if (typeof value === 'object') return stringifyJsonExact(value);
  return String(value);
}

/** A plain aligned table: header in bold when colour is on; long cells are not truncated (grep-able). */
export function renderTable(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: readonly string[],
  style: Style,
): string {
  const cells = rows.map((row) => columns.map((c) => cell(row[c]).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const header = style.bold(line(columns.map((c) => c.toUpperCase())));
  return [header, ...cells.map(line)].join('\n') + '\n';
}

/** Renders a command's result: rows as a table, or the same rows as JSON/YAML (machine-readable). */
export function renderResult(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: readonly string[],
  format: OutputFormat,
  style: Style,
): string {
  switch (format) {
    case 'json':
      return stringifyJsonExact(rows, 2) + '\n';
    case 'yaml':
      return toYaml(rows);
    case 'table':
      return renderTable(rows, columns, style);
  }
}
