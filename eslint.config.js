// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './scripts/eslint/import-boundary.js';

// ---- 17b: import boundaries for every layer (Kafka's checkstyle/import-control.xml) ----------------------------
// Who may import whom, lowest layer first:
//   runtime/api ← everything. Plugins (connectors/, transforms/) → runtime/api only (the rule above).
//   runtime: api ← logging, kafka, converters, config-providers ← errors, plugins, transforms ← worker ← operations ← rest
//   ← launch.
//   integrations/ (the per-customer compiler, a library) → runtime and the connectors' public.ts.
//   cli/ → anything, but connectors only through their public.ts.  The runtime never imports cli/ or integrations/.
// This block uses @typescript-eslint/no-restricted-imports so it never replaces the core no-restricted-imports rules
// above; each source file matches exactly one layer below (a later match would replace an earlier one's list).
const forbid = (folders, message) => ({ group: folders.map((f) => `**/${f}/**`), message });
const NOT_UP_TO_CLI = forbid(
  ['cli', 'integrations'],
  'The runtime never imports the CLI or the integrations compiler.',
);
const NOT_LAUNCH = forbid(['launch'], 'Only entry points (bin, cli) import runtime/launch.');
const ONLY_PUBLIC_CONNECTOR = {
  group: ['**/connectors/*/**', '!**/connectors/*/public.js'],
  message: "Use the connector's public.ts: the rest of its folder is its own and changes without notice.",
};
const runtimeLayers = {
  api: [{ group: ['../**'], message: 'The plugin API imports nothing else in the repo.' }],
  logging: [forbid(['worker', 'errors', 'rest', 'operations', 'plugins', 'kafka'], 'Logging sits on the API only.')],
  kafka: [forbid(['worker', 'errors', 'rest', 'operations', 'plugins'], 'runtime/kafka sits on the API only.')],
  converters: [forbid(['worker', 'errors', 'rest', 'operations'], 'Converters sit on the API only.')],
  errors: [
    forbid(['worker', 'rest', 'operations'], 'Error handling sits below the worker: take what it needs as ports.'),
  ],
  plugins: [forbid(['worker', 'rest', 'operations', 'errors'], 'The plugin registry sits below the worker.')],
  transforms: [forbid(['worker', 'rest', 'operations', 'errors'], 'The transform chain sits below the worker.')],
  // The worker, REST and launch resolve ${provider:path:key} through these; they read nothing of the engine back.
  'config-providers': [
    forbid(
      ['worker', 'errors', 'rest', 'operations', 'plugins', 'transforms', 'kafka', 'converters', 'logging'],
      'Config providers sit on the API only: the worker uses them, never the other way.',
    ),
  ],
  worker: [forbid(['rest', 'operations'], 'The worker never imports REST or operations: they sit above it.')],
  operations: [forbid(['rest'], 'Operations sit below REST.')],
  rest: [],
  launch: [],
};
const boundaryRule = (patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
});
const importBoundaries = [
  ...Object.entries(runtimeLayers).map(([layer, patterns]) => ({
    files: [`runtime/${layer}/**/*.ts`],
    rules: boundaryRule([...patterns, NOT_UP_TO_CLI, ...(layer === 'launch' ? [] : [NOT_LAUNCH])]),
  })),
  {
    files: ['connectors/**/*.ts', 'transforms/**/*.ts'],
    rules: boundaryRule([forbid(['cli', 'integrations'], 'Plugins import only runtime/api.')]),
  },
  {
    files: ['integrations/**/*.ts'],
    rules: boundaryRule([
      forbid(['cli'], 'The integrations compiler is a library: the CLI uses it, never the other way.'),
      forbid(['runtime/rest', 'runtime/launch'], 'The integrations compiler does not start workers or serve REST.'),
      ONLY_PUBLIC_CONNECTOR,
    ]),
  },
  { files: ['cli/**/*.ts'], rules: boundaryRule([ONLY_PUBLIC_CONNECTOR]) },
];
// ---- end 17b -------------------------------------------------------------------------------------------------

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', '.stack-kafka-*/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The bin launcher is plain JavaScript run by Node.
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly', URL: 'readonly' } } },
  // The operations console's page: plain ES modules run by the browser (no build step).
  {
    files: ['console/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'fetch', 'Node', 'URLSearchParams', 'setInterval', 'clearInterval'].map(
          (g) => [g, 'readonly'],
        ),
      ),
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': 'off',
    },
  },
  {
    // Type-aware checks (typescript-eslint recommendedTypeChecked, the subset that finds real bugs here): a promise
    // nobody awaits loses its error, and a switch over a union must say what happens to a member added later.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },
  {
    // Plugins see only the plugin API, never the runtime (Kafka Connect's split).
    files: ['connectors/**/*.ts', 'transforms/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtime/*', '!**/runtime/api', '!**/runtime/api/*'],
              message: 'Plugins import only runtime/api.',
            },
            { group: ['kafkajs'], message: 'Kafka access lives in runtime/kafka only.' },
          ],
        },
      ],
    },
  },
  {
    // The engine never knows its plugins: the bundle (bundle/builtin.ts) and the entry points (cli/, bench/, tests)
    // build the registry and pass it in, as Redpanda Connect's public/components/all does.
    files: ['runtime/**/*.ts'],
    plugins: { boundaries },
    rules: {
      'boundaries/forbid-paths': [
        'error',
        {
          forbidden: ['connectors', 'transforms', 'bundle'],
          message: 'runtime/ is given its plugins through a PluginRegistry; only bundle/ and entry points import them.',
        },
      ],
    },
  },
  {
    // The connectors' shared code (one SQL driver layer) sits below every connector: it never imports one.
    files: ['connectors/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtime/*', '!**/runtime/api', '!**/runtime/api/*'],
              message: 'Plugins import only runtime/api.',
            },
            { group: ['kafkajs'], message: 'Kafka access lives in runtime/kafka only.' },
            {
              group: ['**/erp-source/*', '**/lookup-sink/*', '**/file/*'],
              message: 'Shared code never imports a connector.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['runtime/**/*.ts', 'cli/**/*.ts'],
    ignores: ['runtime/kafka/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'kafkajs', message: 'Kafka access lives in runtime/kafka only.' }] },
      ],
    },
  },
  ...importBoundaries, // 17b
);
