// The lint CI runs (`npm run lint`): TypeScript's and React's rules, and the boundaries
// between the parts of the app — see docs/architecture.md, "The browser UI".
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** A feature is used through its index: no import reaches into another feature's files. */
const INTO_ANOTHER_FEATURE = {
  regex: '^\\.\\./[^./][^/]*/',
  message: "Import another feature through its index ('../<feature>'), not its files.",
};
const INTO_A_FEATURE = {
  regex: '^(\\.\\./)+features/[^/]+/',
  message: "Import a feature through its index ('features/<feature>'), not its files.",
};
/** Components go through the query layer (lib/query), never the bare client. */
const BARE_CLIENT = ['../lib/api', '../../lib/api'].map((name) => ({
  name,
  importNames: ['api'],
  message: 'Call the API through the query layer (lib/query): its hooks cache, retry and show errors.',
}));

export default tseslint.config(
  { ignores: ['dist', 'src/api/schema.d.ts', 'playwright-report', 'test-results'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/features/**'],
    rules: { 'no-restricted-imports': ['error', { paths: BARE_CLIENT, patterns: [INTO_ANOTHER_FEATURE] }] },
  },
  {
    files: ['src/app/**', 'src/help/**'],
    rules: { 'no-restricted-imports': ['error', { paths: BARE_CLIENT, patterns: [INTO_A_FEATURE] }] },
  },
  {
    // The help center's entry point composes the portal; it never reaches into the agent app.
    files: ['src/help/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: BARE_CLIENT, patterns: [INTO_A_FEATURE, { regex: '^\\.\\./app(/|$)', message: 'The help center does not import the agent app.' }] },
      ],
    },
  },
  {
    // Shared pieces sit beneath the features and the entry points.
    files: ['src/lib/**', 'src/components/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+(features|app|help)(/|$)', message: 'lib/ and components/ are shared: they import no feature or entry point.' }] },
      ],
    },
  },
);
