// @ts-check
// A third-party erpstream plugin. It imports only the plugin API (`erpstream/api`), as a Kafka Connect plugin
// imports only connect-api, and is plain JavaScript so the worker loads it with Node's own ESM loader: put this
// folder (or the folder that holds it) on the worker's `plugin.path`.
import { ConfigDef, ConfigError, newRecord } from 'erpstream/api';

/** @typedef {import('erpstream/api').Transformation} Transformation */

const SUFFIX = 'suffix';

/** @type {import('erpstream/api').Validator} */
const atMost16 = {
  ensureValid(name, value) {
    if (typeof value === 'string' && value.length > 16)
      throw ConfigError.invalid(name, value, 'Use at most 16 characters');
  },
  describe: () => 'at most 16 characters',
};

// Declared once: the worker validates connector configs against it (REST validate, create) before any task runs.
const config = new ConfigDef().define({
  name: SUFFIX,
  type: 'STRING',
  defaultValue: '',
  validator: atMost16,
  importance: 'LOW',
  documentation: 'Text appended to every upper-cased value (e.g. "!").',
});

/**
 * Upper-cases a record's value when it is text, and appends `suffix`. Other values (structs, bytes, tombstones)
 * pass unchanged: a transform must never stop a task over a record it has no business with.
 * @implements {Transformation}
 */
class Shout {
  suffix = '';

  /** @param {import('erpstream/api').RawConfig} props */
  configure(props) {
    this.suffix = config.parse(props).string(SUFFIX);
  }

  /**
   * @template {import('erpstream/api').ConnectRecord} R
   * @param {R} record
   * @returns {R}
   */
  apply(record) {
    if (typeof record.value !== 'string') return record;
    return newRecord(record, { value: `${record.value.toUpperCase()}${this.suffix}` });
  }

  close() {}
}

/** @type {import('erpstream/api').TransformationPlugin} */
export const shoutPlugin = {
  type: 'transformation',
  className: 'com.example.erpstream.Shout',
  aliases: ['Shout'],
  version: '1.0.0',
  config,
  summary: 'Upper-cases text values and appends a suffix (an example third-party plugin).',
  example: {
    transforms: 'shout',
    'transforms.shout.type': 'com.example.erpstream.Shout',
    'transforms.shout.suffix': '!',
  },
  create: () => new Shout(),
};

/**
 * What the worker calls when it loads this package from `plugin.path` (package.json `erpstream.plugins`).
 * @param {{ register(plugin: import('erpstream/api').PluginDescriptor): void }} registrar
 */
export default function register(registrar) {
  registrar.register(shoutPlugin);
}
