import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvaeError, listPriors, registerPrior, type PriorPlugin } from '@invae/core';
import { registerBuiltinPriors } from '@invae/priors';

/** A prior plugin could not be loaded from a file or package named on the command line. */
export class PriorPluginLoadError extends InvaeError {
  /** What the user named (path or package). */
  readonly plugin: string;

  constructor(plugin: string, message: string, hint?: string) {
    super('PRIOR_PLUGIN_LOAD', message, { hint });
    this.plugin = plugin;
  }
}

function isPluginLike(x: unknown): x is PriorPlugin<object> {
  return !!x && typeof x === 'object' && typeof (x as PriorPlugin).name === 'string' && typeof (x as PriorPlugin).create === 'function';
}

/**
 * Resolves `--inv-prior` / `--spur-prior`: a registered prior name is used as is; otherwise a path
 * (starts with `.` or `/`, or ends in .js/.mjs/.cjs; relative to the working directory) or a
 * package name (resolved from the working directory) is loaded with a dynamic import — only now,
 * when named — and its default export (or its `plugin` export) is registered.
 * Returns the registered plugin's name.
 */
export async function resolvePriorPlugin(spec: string, flag: string): Promise<string> {
  if (listPriors().some((p) => p.name === spec)) return spec;
  const known = listPriors().map((p) => p.name).join(', ');
  const isPath = spec.startsWith('.') || path.isAbsolute(spec) || /\.[cm]?js$/i.test(spec);
  let url: string;
  if (isPath) {
    const abs = path.resolve(process.cwd(), spec);
    if (!existsSync(abs)) throw new PriorPluginLoadError(spec, `${flag}: prior plugin file ${abs} does not exist.`, `name a registered prior (${known}), a plugin file or an installed package`);
    url = pathToFileURL(abs).href;
  } else if (/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+(\/[a-z0-9._~/-]+)?$/i.test(spec)) {
    try {
      url = pathToFileURL(createRequire(path.join(process.cwd(), 'package.json')).resolve(spec)).href;
    } catch {
      url = spec; // ESM-only exports: let import() resolve it
    }
  } else {
    throw new PriorPluginLoadError(spec, `${flag}: '${spec}' is neither a registered prior (${known}) nor a file or package name.`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const notFound = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && !isPath && url === spec;
    throw new PriorPluginLoadError(
      spec,
      notFound ? `${flag}: no prior named '${spec}' is registered (known: ${known}) and no package '${spec}' is installed.` : `${flag}: cannot load prior plugin '${spec}': ${(e as Error).message}`,
      notFound ? 'check the spelling, or install the plugin package' : undefined,
    );
  }
  const def = mod.default as Record<string, unknown> | undefined;
  const plugin = [def, mod.plugin, def?.plugin].find(isPluginLike);
  if (!plugin) {
    throw new PriorPluginLoadError(spec, `${flag}: '${spec}' does not export a prior plugin (a default or 'plugin' export with a name and create()).`, 'see examples/prior-plugin/index.js');
  }
  registerPrior(plugin);
  return plugin.name;
}

/** commander collector of a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Registers the built-in priors and every plugin named with `--plugin` (files or packages), so a
 * model that was trained with third-party priors can be loaded.
 */
export async function loadPlugins(specs: readonly string[] = []): Promise<void> {
  registerBuiltinPriors();
  for (const spec of specs) await resolvePriorPlugin(spec, '--plugin');
}
