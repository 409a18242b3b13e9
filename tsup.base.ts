import { defineConfig, type Options } from 'tsup';

/**
 * Shared tsup settings for every publishable package: ESM + CJS + .d.ts from the single public
 * `src/index.ts` (plus any extra entries a package names, e.g. the CLI's bin).
 */
export function packageBuild(extra: Partial<Options> = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    shims: true,
    splitting: false,
    treeshake: true,
    ...extra,
  });
}
