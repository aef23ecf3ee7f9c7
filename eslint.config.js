// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './scripts/eslint/import-boundary.js';

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
);
