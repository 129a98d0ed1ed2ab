// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import rxjsX from "eslint-plugin-rxjs-x";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "coverage/**",
      "bench/results/**",
      "**/*.cjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            "*.js",
            "*.mjs",
            "bin/*.mjs",
            "stack/*.mjs",
            "k3s/*.mjs",
            ".ci/*.mjs",
            "fuzz/*.mjs",
          ],
          // The plain .mjs scripts above (setup, test runner, generators, fuzz runner) are
          // more than typescript-eslint's default of 8; each is small.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 32,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "rxjs-x": rxjsX },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "rxjs-x/no-nested-subscribe": "error",
      "rxjs-x/no-ignored-subscription": "error",
    },
  },
  {
    // Operators are pure RxJS: time comes from an injected scheduler, I/O from a function the
    // connector provides. No promises, no await, no raw timers (STYLE.md, habit 1).
    files: ["operators/**/*.ts"],
    ignores: ["operators/**/*.test.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "AwaitExpression",
          message: "operators use no await: return an Observable",
        },
        {
          selector: "NewExpression[callee.name='Promise']",
          message: "operators create no Promise",
        },
        {
          selector:
            "CallExpression[callee.name=/^(setTimeout|setInterval|setImmediate)$/]",
          message: "operators take time from an injected SchedulerLike",
        },
      ],
      "no-restricted-globals": [
        "error",
        {
          name: "Date",
          message:
            "operators read time from the injected scheduler (scheduler.now())",
        },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { process: "readonly", console: "readonly", URL: "readonly" },
    },
  },
  {
    files: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/unbound-method": "off",
    },
  },
  prettier,
);
