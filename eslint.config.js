// Lint rules: typescript-eslint's recommended set, plus the project's own bans
// (no `any` in src/, no clocks or randomness inside the pure layers).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureLayerBans = [
  { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'The pure core takes time as tick(); no Date.now().' },
  { selector: "NewExpression[callee.name='Date']", message: 'The pure core takes time from the proposer; no new Date().' },
  { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Randomness comes from the injected PRNG.' },
  { selector: "CallExpression[callee.name='setTimeout']", message: 'No timers in the pure core.' },
  { selector: "CallExpression[callee.name='setInterval']", message: 'No timers in the pure core.' },
  { selector: 'AwaitExpression', message: 'The pure core never awaits.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.tools/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
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
