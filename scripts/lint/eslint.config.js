// The project's lint rules: typescript-eslint's strict set, plus the limits ARCHITECTURE.md
// promises (no file in src over 250 lines, no line over 120 characters).
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const rules = defineConfig(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'src/db/generated/**', 'keys/**', 'scripts/demo/broker-api.d.ts'],
  },
  js.configs.recommended,
  tseslint.configs.strict,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly' },
    },
    rules: {
      // Unused bindings named _… are deliberate (rest-destructuring to drop a field).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 250 }],
    },
  },
  {
    // Tests and tools state facts about values they built themselves, and read the broker's
    // JSON answers as the contract describes them; a wrong guess fails the run at once.
    // Prettier keeps their code within 120 columns; long literals may stay.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'scripts/**/*.mjs', 'scripts/**/*.js'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      'max-len': 'off',
    },
  },
  {
    // A connection that nobody listens to for 'error' ends the whole test process when its
    // server goes away (a database dropped at a file's end): tests open theirs through
    // test/helpers/pg.ts, which listens.
    files: ['test/**/*.ts'],
    ignores: ['test/helpers/pg.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.object.name='pg'][callee.property.name=/^(Pool|Client)$/]",
          message: 'Open PostgreSQL connections with testPool/testClient (test/helpers/pg.ts): they listen for errors.',
        },
        {
          // Tests run compiled, from dist/test/: a path relative to the test file points into dist/.
          selector: "MemberExpression[object.type='MetaProperty'][property.name=/^(dirname|filename)$/]",
          message: 'Tests run from dist/test/: find the project with packageRoot() (src/config/local.ts).',
        },
      ],
    },
  },
);

// The config lives with its toolchain (scripts/lint); the files it governs are the project's.
const root = fileURLToPath(new URL('../..', import.meta.url));
export default rules.map((config) => ({ ...config, basePath: root }));
