/** The transform chain the runtime and the CLI run records through. */
export * from './chain.js';
export * from './chain-config.js';
export * from './transform-error.js';
