// @ts-check
import path from 'node:path';

/**
 * An import-control rule on resolved paths (Kafka's checkstyle import-control, for this tree): a relative import is
 * resolved against the importing file and refused when it lands in one of the `forbidden` top-level folders.
 * `no-restricted-imports` matches the specifier text, so it cannot tell `runtime/transforms` (engine) from the
 * top-level `transforms/` (plugins) when both are reached through `../`.
 */
const root = path.resolve(import.meta.dirname, '..', '..');

/** @type {import('eslint').Rule.RuleModule} */
const forbidPaths = {
  meta: {
    type: 'problem',
    schema: [
      {
        type: 'object',
        properties: {
          forbidden: { type: 'array', items: { type: 'string' } },
          message: { type: 'string' },
        },
        required: ['forbidden'],
        additionalProperties: false,
      },
    ],
    messages: { forbidden: "'{{spec}}' reaches {{dir}}/: {{message}}" },
  },
  create(context) {
    const { forbidden, message = '' } = /** @type {{ forbidden: string[]; message?: string }} */ (context.options[0]);
    const from = path.dirname(context.filename);
    /** @param {import('estree').Node | null | undefined} source */
    const check = (source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const spec = source.value;
      if (!spec.startsWith('.')) return;
      const rel = path.relative(root, path.resolve(from, spec)).split(path.sep).join('/');
      const dir = forbidden.find((d) => rel === d || rel.startsWith(`${d}/`));
      if (dir !== undefined) context.report({ node: source, messageId: 'forbidden', data: { spec, dir, message } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
    };
  },
};

export default { rules: { 'forbid-paths': forbidPaths } };
