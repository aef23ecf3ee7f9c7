import {
  ConfigError,
  type ConfigDef,
  type Field,
  type Schema,
  type Struct,
  Validators,
} from '../../runtime/api/index.js';
import { type PlainObject, requireMapOrNull, requireStructOrNull } from '../support.js';
import { ownValue, readField } from './field-common.js';

/**
 * KIP-821 field paths. V1: the whole text is one top-level field name. V2: dotted steps into nested
 * structs/maps; a name that contains dots is wrapped in backticks (`` `a.b`.c ``), and a backtick right
 * after a backslash is a literal backtick. The parser follows Connect's SingleFieldPath step by step.
 */

export const FIELD_SYNTAX_VERSION = 'field.syntax.version';
export type FieldSyntaxVersion = 'V1' | 'V2';

export function defineFieldSyntaxVersion(def: ConfigDef): ConfigDef {
  return def.define({
    name: FIELD_SYNTAX_VERSION,
    type: 'STRING',
    defaultValue: 'V1',
    importance: 'HIGH',
    validator: Validators.inIgnoreCase('V1', 'V2'),
    documentation:
      'Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to ' +
      'access the elements at the root level of the struct or map. If set to `V2`, the syntax will support ' +
      'accessing nested elements. To access nested elements, dotted notation is used. If dots are already ' +
      'included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. ' +
      'to access the subfield `baz` from a field named "foo.bar" in a struct/map the following format can be ' +
      'used to access its elements: "`foo.bar`.baz".',
  });
}

export function parseSyntaxVersion(text: string): FieldSyntaxVersion {
  return text.toUpperCase() as FieldSyntaxVersion;
}

function incompleteBacktick(path: string, at: number, configKey: string): ConfigError {
  return ConfigError.invalid(
    configKey,
    path,
    `Incomplete backtick pair in path: [${path}], consider adding a backslash before backtick at position ${at} to escape it`,
  );
}

/** Splits a V2 path into steps exactly as Connect's SingleFieldPath.buildFieldPathV2. */
export function parsePathV2(path: string, configKey: string): string[] {
  const steps: string[] = [];
  let idx = 0;
  while (idx < path.length && idx >= 0) {
    if (path[idx] !== '`') {
      const start = idx;
      idx = path.indexOf('.', idx);
      if (idx >= 0) {
        steps.push(path.slice(start, idx));
        idx++;
      } else {
        steps.push(path.slice(start));
      }
      continue;
    }
    const backtickAt = idx;
    idx++;
    let field = '';
    let start = idx;
    for (;;) {
      idx = path.indexOf('`', idx);
      if (idx === -1) throw incompleteBacktick(path, backtickAt, configKey);
      const escaped = path[idx - 1] === '\\';
      if (idx >= path.length - 1) {
        if (escaped) throw incompleteBacktick(path, backtickAt, configKey);
        field += path.slice(start, idx);
        steps.push(field);
        idx++;
        break;
      }
      if (path[idx + 1] !== '.') {
        // A backtick not followed by a dot is part of the name; keep looking for the closing one.
        idx++;
        continue;
      }
      if (escaped) {
        field += `${path.slice(start, idx - 1)}\``;
        idx++;
        start = idx;
        continue;
      }
      field += path.slice(start, idx);
      steps.push(field);
      idx += 2;
      break;
    }
  }
  if (path.length > 0 && path.endsWith('.')) steps.push('');
  return steps;
}

/** A parsed path to one (possibly nested) field. */
export class SingleFieldPath {
  readonly steps: readonly string[];

  constructor(
    readonly text: string,
    version: FieldSyntaxVersion,
    configKey: string,
  ) {
    this.steps = version === 'V1' ? [text] : parsePathV2(text, configKey);
  }

  /** The field at this path in a struct schema, or undefined (Connect's fieldFrom). */
  fieldFrom(schema: Schema): Field | undefined {
    let current: Schema | undefined = schema;
    let found: Field | undefined;
    for (const step of this.steps) {
      if (current?.type !== 'struct') return undefined;
      found = current.fields?.find((f) => f.name === step);
      if (found === undefined) return undefined;
      current = found.schema;
    }
    return found;
  }

  /** The value at this path, null when any step is missing or null (Connect's valueFrom(Struct)). */
  valueFromStruct(struct: Struct, replaceNullWithDefault: boolean): unknown {
    let current: Struct | null = struct;
    for (let i = 0; i < this.steps.length; i++) {
      const f: Field | undefined = current.schema.fields?.find((x) => x.name === this.steps[i]);
      if (f === undefined) return null;
      const v = readField(current, f, replaceNullWithDefault);
      if (i === this.steps.length - 1) return v;
      current = requireStructOrNull(v, 'nested field access');
      if (current === null) return null;
    }
    return null;
  }

  /** The value at this path in a schemaless map (Connect's valueFrom(Map)). */
  valueFromMap(map: PlainObject): unknown {
    let current: PlainObject | null = map;
    for (let i = 0; i < this.steps.length - 1; i++) {
      current = requireMapOrNull(ownValue(current, this.steps[i]!), 'nested field access');
      if (current === null) return null;
    }
    return ownValue(current, this.steps[this.steps.length - 1]!);
  }
}
