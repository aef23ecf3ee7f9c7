import {
  ErpStreamError,
  type PluginDescriptor,
  type PluginRegistrar,
  type PluginType,
  PluginNotFoundError,
} from '../api/index.js';

type DescriptorOf<T extends PluginType> = Extract<PluginDescriptor, { type: T }>;

/**
 * Resolves plugins by fully qualified class name or simple-name alias, as Connect's Plugins does.
 * Connector names also resolve without their trailing "Connector" (ErpSource → erpstream.ErpSourceConnector).
 * It knows no plugin of its own: the entry point fills it (bundle/builtin.ts, then `plugin.path`) and hands it down.
 */
export class PluginRegistry implements PluginRegistrar {
  private readonly byType = new Map<PluginType, Map<string, PluginDescriptor>>();
  private readonly all: PluginDescriptor[] = [];

  constructor(plugins: readonly PluginDescriptor[]) {
    for (const p of plugins) this.register(p);
  }

  register(plugin: PluginDescriptor): void {
    const names = this.byType.get(plugin.type) ?? new Map<string, PluginDescriptor>();
    const all = [plugin.className, ...(plugin.aliases ?? [])];
    // Every name is checked before any is taken: a refused plugin leaves none of its names behind.
    for (const name of all) {
      const existing = names.get(name) ?? this.otherConnectorNamed(plugin, name);
      if (existing && existing !== plugin) {
        throw new ErpStreamError(
          'ERPSTREAM_PLUGIN_CONFLICT',
          `Plugin name ${name} is claimed by both ${existing.className} and ${plugin.className}`,
        );
      }
    }
    this.byType.set(plugin.type, names);
    for (const name of all) names.set(name, plugin);
    this.all.push(plugin);
  }

  /**
   * Sources and sinks share one namespace (connector.class names either, looked up source first, with or without
   * the trailing "Connector"): a sink named like an installed source, or the reverse, would shadow it or be shadowed.
   */
  private otherConnectorNamed(plugin: PluginDescriptor, name: string): PluginDescriptor | undefined {
    if (plugin.type !== 'source' && plugin.type !== 'sink') return undefined;
    const stem = (n: string) => (n.endsWith('Connector') ? n.slice(0, -'Connector'.length) : n);
    for (const type of ['source', 'sink'] as const) {
      for (const [taken, owner] of this.byType.get(type) ?? []) {
        if (owner !== plugin && stem(taken) === stem(name)) return owner;
      }
    }
    return undefined;
  }

  find<T extends PluginType>(type: T, name: string): DescriptorOf<T> | undefined {
    return this.byType.get(type)?.get(name.trim()) as DescriptorOf<T> | undefined;
  }

  /** Like find, but throws PluginNotFoundError listing what is installed. */
  get<T extends PluginType>(type: T, name: string): DescriptorOf<T> {
    const found = this.find(type, name);
    if (found) return found;
    throw new PluginNotFoundError(
      type,
      name,
      this.list(type).map((p) => p.className),
    );
  }

  /** A connector of either kind (source or sink). */
  connector(name: string): DescriptorOf<'source'> | DescriptorOf<'sink'> {
    const found = this.find('source', name) ?? this.find('sink', name);
    if (found) return found;
    throw new PluginNotFoundError(
      'connector',
      name,
      [...this.list('source'), ...this.list('sink')].map((p) => p.className),
    );
  }

  /**
   * The PASSWORD-typed keys of a connector's spec, for the secret rule (runtime/api/secrets.ts). When the class
   * is missing or unknown, those of every installed connector: hiding too much beats showing a secret.
   */
  connectorPasswordKeys(connectorClass: unknown): ReadonlySet<string> {
    const cls = typeof connectorClass === 'string' ? connectorClass : '';
    const one = this.find('source', cls) ?? this.find('sink', cls);
    const specs = one ? [one] : [...this.list('source'), ...this.list('sink')];
    return new Set(specs.flatMap((p) => p.config.configKeys().flatMap((k) => (k.type === 'PASSWORD' ? [k.name] : []))));
  }

  list<T extends PluginType>(type?: T): Array<DescriptorOf<T>> {
    return this.all.filter((p) => type === undefined || p.type === type) as Array<DescriptorOf<T>>;
  }
}
