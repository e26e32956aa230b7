// Lint rules: typescript-eslint's recommended set, plus the project's own bans (no `any` in
// src/, no clocks or randomness inside the pure layers), type-aware checks of promises, and
// the layer rule: a folder of src/ reaches another only through that folder's index.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureLayerBans = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'The pure core takes time as tick(); no Date.now().',
  },
  {
    selector: "NewExpression[callee.name='Date']",
    message: 'The pure core takes time from the proposer; no new Date().',
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'Randomness comes from the injected PRNG.',
  },
  { selector: "CallExpression[callee.name='setTimeout']", message: 'No timers in the pure core.' },
  { selector: "CallExpression[callee.name='setInterval']", message: 'No timers in the pure core.' },
  { selector: 'AwaitExpression', message: 'The pure core never awaits.' },
];

const layerMessage =
  'Another layer is reached through its index.ts (its public surface), never its internals.';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.tools/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Type-aware: a promise nobody awaits or handles, or one passed where a plain callback is
    // expected (an event handler, a forEach), loses its rejection.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // src/<layer>/x.ts may import ../<other layer>/index.js only (etcd's raft exports one package surface).
    // Not the browser console: its bundle takes the FSM's plain constants and types alone
    // (fsm/types.ts, print-jobs.ts), never the state machine the index would pull in.
    files: ['src/*/**/*.ts'],
    ignores: ['src/console/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./[^/]+/(?!index\\.js$)', message: layerMessage }] },
      ],
    },
  },
  {
    // src/main.ts and its neighbours likewise: ./<layer>/index.js only.
    files: ['src/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\./[^/]+/(?!index\\.js$)', message: layerMessage }] },
      ],
    },
  },
  {
    files: ['src/raft/**/*.ts', 'src/fsm/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...pureLayerBans] },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
