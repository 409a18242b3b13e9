import { writeFolderAtomic } from '@invae/common';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { VERSION } from '../version';
import { openSafetensors, serializeSafetensors, type SafetensorsContents, type SafetensorsFile, type SafetensorsInput } from '../io/safetensors';
import { SafetensorsFormatError } from '../module/errors';
import { UNIQUE_GENES_HINT, duplicateNames, nameList } from '../data/names';
import { ManifestChecker } from './manifest';
import { currentEngine } from '../engine';
import { ModelFormatError } from './errors';

/** Identifies an invae model directory's `model.json`. */
export const MODEL_FORMAT = 'invae-model';
/** Version of the model directory layout written by this release; readers accept this and older. */
export const MODEL_FORMAT_VERSION = 1;
const MANIFEST = 'model.json';
const WEIGHTS = 'weights.safetensors';

/** `model.json` of a model directory. */
export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  /** Package and version that wrote it. */
  createdBy: { package: string; version: string };
  /** When it was written (ISO 8601). */
  createdAt: string;
  /** Engine the model was trained on (informational). */
  engine: { engine: string; backend: string } | null;
  /** Options that rebuild the network (e.g. the model and prior options), JSON. */
  model: Record<string, unknown>;
  /** Genes (var names) the model expects, in order. */
  geneNames: string[];
  /** Everything else a workflow needs to reproduce its inputs: covariate encoders, layer, training summary, predictors. */
  extra: Record<string, unknown>;
  /** Tensors in `weights.safetensors`: name → shape (all float32). */
  weights: Record<string, number[]>;
}

/** What {@link saveModelDir} writes. */
export interface ModelDirContents {
  model: Record<string, unknown>;
  geneNames: string[];
  extra?: Record<string, unknown>;
  /** Weights by name (e.g. `InvaeModel.getWeights()`); float32. */
  weights: ReadonlyMap<string, tf.Tensor>;
  /**
   * Further files written into the directory with the model, in the same atomic replacement (e.g.
   * `history.json`, `loss.svg`): plain file names, not `model.json` or `weights.safetensors`.
   */
  files?: Readonly<Record<string, string | Uint8Array>>;
}

/** Whether `name` is a plain file name a model directory may hold besides its manifest and weights. */
function checkExtraFileName(target: string, name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name === MANIFEST || name === WEIGHTS) {
    throw new ModelFormatError(target, `cannot write the extra file '${name}' into a model directory`, { hint: `use a plain file name other than ${MANIFEST} and ${WEIGHTS}` });
  }
}

/**
 * Writes a model directory (`model.json` + `weights.safetensors`) atomically: everything is written
 * to a temporary sibling directory that then replaces `dir` (an existing model directory is replaced
 * only when `overwrite` is set, and only after the new one is complete).
 * @throws ModelFormatError when `dir` exists and is not to be overwritten, or is not a model directory.
 */
export async function saveModelDir(dir: string, contents: ModelDirContents, options: { overwrite?: boolean } = {}): Promise<ModelManifest> {
  const target = path.resolve(dir);
  const exists = await fsp.stat(target).then(
    (s) => s,
    () => null,
  );
  if (exists) {
    if (!options.overwrite) throw new ModelFormatError(target, 'already exists', { hint: 'choose another output directory or pass overwrite' });
    const isModel = exists.isDirectory() && (await fsp.stat(path.join(target, MANIFEST)).then(() => true, () => false));
    const empty = exists.isDirectory() && (await fsp.readdir(target)).length === 0;
    if (!isModel && !empty) throw new ModelFormatError(target, 'exists and is not an invae model directory; refusing to replace it');
  }
  for (const name of Object.keys(contents.files ?? {})) checkExtraFileName(target, name);
  const tensors = new Map<string, SafetensorsInput>();
  const shapes: Record<string, number[]> = {};
  for (const [name, t] of contents.weights) {
    if (t.dtype !== 'float32') throw new ModelFormatError(target, `weight '${name}' is ${t.dtype}; only float32 weights are saved`);
    const data = (await t.data()) as Float32Array;
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      throw new ModelFormatError(target, `weight '${name}' holds a non-finite value (${data[bad]} at element ${bad}); a model with non-finite weights is not saved`, {
        hint: 'training diverged: lower the learning rate, or save the weights of the last good epoch',
      });
    }
    tensors.set(name, { dtype: 'F32', shape: t.shape, data });
    shapes[name] = [...t.shape];
  }
  const engine = currentEngine();
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    createdBy: { package: '@invae/core', version: VERSION },
    createdAt: new Date().toISOString(),
    engine: engine ? { engine: engine.engine, backend: engine.backend } : null,
    model: contents.model,
    geneNames: [...contents.geneNames],
    extra: contents.extra ?? {},
    weights: shapes,
  };
  await writeFolderAtomic(
    target,
    async (tmp) => {
      await fsp.writeFile(path.join(tmp, WEIGHTS), serializeSafetensors(tensors, { format: MODEL_FORMAT }));
      for (const [name, body] of Object.entries(contents.files ?? {})) await fsp.writeFile(path.join(tmp, name), body);
      await fsp.writeFile(path.join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    },
    { existing: 'replace' },
  );
  return manifest;
}

/** A model directory read back: its manifest and its weights as tensors (the caller owns them). */
export interface LoadedModelDir {
  manifest: ModelManifest;
  weights: Map<string, tf.Tensor>;
}

/** Options of {@link readModelDir}. */
export interface ReadModelDirOptions {
  /**
   * Further checks of the manifest (e.g. that the shapes its model options imply are the weights'),
   * run after the manifest has been checked against the weights file's header and before any
   * weight is read. Throw a {@link ModelFormatError} to refuse the directory.
   */
  validate?: (manifest: ModelManifest, dir: string) => void;
}

/** Largest `model.json` read (it holds the options, gene names, covariate encoders and predictor state). */
const MAX_MANIFEST_BYTES = 1024 * 1024 * 1024;
/** Plausible upper bounds of sizes in a model directory. */
const MAX_GENES = 10_000_000;
const MAX_DIM = 2 ** 31 - 1;

/** Reads `model.json` with its size checked first (a regular file of at most 1 GiB). */
async function readManifestText(dir: string): Promise<string> {
  const file = path.join(dir, MANIFEST);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    throw new ModelFormatError(dir, `cannot read ${MANIFEST} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      hint: 'pass a directory written by `invae train` or saveModelDir',
      cause: e,
    });
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new ModelFormatError(dir, `${MANIFEST} is not a regular file`);
    if (stat.size > MAX_MANIFEST_BYTES) throw new ModelFormatError(dir, `${MANIFEST} is ${stat.size} bytes, more than the 1 GiB limit`);
    const buf = Buffer.alloc(stat.size);
    let done = 0;
    while (done < stat.size) {
      const { bytesRead } = await fh.read(buf, done, stat.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Checks the manifest's own fields (format, version, gene names, weight shapes), field by field. */
function checkManifest(dir: string, raw: unknown): ModelManifest {
  const check = new ManifestChecker(dir);
  const m = check.object('(top level)', raw);
  if (m.format !== MODEL_FORMAT) throw new ModelFormatError(dir, `${MANIFEST} is not an invae model manifest (format ${JSON.stringify(m.format)})`);
  if (!Number.isInteger(m.formatVersion) || (m.formatVersion as number) < 1 || (m.formatVersion as number) > MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(dir, `model format version ${JSON.stringify(m.formatVersion)} is not supported by @invae/core ${VERSION} (supports 1 to ${MODEL_FORMAT_VERSION})`, {
      hint: 'upgrade @invae/core to read models written by newer releases',
    });
  }
  if (m.createdBy !== undefined) {
    const c = check.object('createdBy', m.createdBy);
    check.string('createdBy.package', c.package);
    check.string('createdBy.version', c.version);
  }
  if (m.createdAt !== undefined) check.string('createdAt', m.createdAt);
  if (m.engine !== undefined && m.engine !== null) {
    const e = check.object('engine', m.engine);
    check.string('engine.engine', e.engine);
    check.string('engine.backend', e.backend);
  }
  check.object('model', m.model);
  const genes = check.strings('geneNames', m.geneNames);
  if (genes.length > MAX_GENES) check.fail('geneNames', `has ${genes.length} genes, more than the plausible limit ${MAX_GENES}`);
  const dups = duplicateNames(genes);
  if (dups.length) {
    check.fail('geneNames', `has ${dups.length} duplicated name(s): ${nameList(dups)}; genes are matched by name, so each must be unique`, `the model cannot tell these genes apart; train it again on data with unique var names: ${UNIQUE_GENES_HINT}`);
  }
  check.object('extra', m.extra ?? {});
  const weights = check.object('weights', m.weights);
  for (const [name, shape] of Object.entries(weights)) {
    const dims = check.array(`weights[${JSON.stringify(name)}]`, shape, 8);
    dims.forEach((d, i) => check.integer(`weights[${JSON.stringify(name)}][${i}]`, d, 0, MAX_DIM));
  }
  return m as unknown as ModelManifest;
}

/**
 * Reads and validates a model directory: the manifest's fields (format, version, unique gene names,
 * weight shapes), that `weights.safetensors` holds exactly the float32 tensors, with the shapes, that
 * the manifest lists (checked on the file's header before any data is read; the file's size bounds
 * every read), then `options.validate`, and that every weight is finite.
 * @throws ModelFormatError naming the directory and what does not fit.
 */
export async function readModelDir(dir: string, options: ReadModelDirOptions = {}): Promise<LoadedModelDir> {
  const target = path.resolve(dir);
  const text = await readManifestText(target);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(target, `${MANIFEST} is not valid JSON`, { cause: e });
  }
  const manifest = checkManifest(target, parsed);
  const weightsFile = path.join(target, WEIGHTS);
  let file: SafetensorsFile;
  try {
    file = await openSafetensors(weightsFile);
  } catch (e) {
    if (e instanceof SafetensorsFormatError) throw new ModelFormatError(target, `${WEIGHTS} is malformed: ${e.message}`, { hint: e.hint, cause: e });
    throw new ModelFormatError(target, `cannot read ${WEIGHTS} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  try {
    const entries = file.header.entries;
    const problems: string[] = [];
    for (const [name, shape] of Object.entries(manifest.weights)) {
      const t = entries.get(name);
      if (!t) problems.push(`missing tensor '${name}'`);
      else if (t.dtype !== 'F32') problems.push(`'${name}' is ${t.dtype}, expected F32`);
      else if (t.shape.join(',') !== shape.join(',')) problems.push(`'${name}' has shape [${t.shape.join(', ')}], manifest says [${shape.join(', ')}]`);
    }
    for (const name of entries.keys()) if (!(name in manifest.weights)) problems.push(`unexpected tensor '${name}'`);
    if (problems.length) {
      throw new ModelFormatError(target, `${WEIGHTS} does not match ${MANIFEST}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, {
        hint: 'the directory was modified or only partly copied; save the model again',
      });
    }
    options.validate?.(manifest, target);
    let contents: SafetensorsContents;
    try {
      contents = await file.readTensors();
    } catch (e) {
      if (e instanceof SafetensorsFormatError) throw new ModelFormatError(target, `${WEIGHTS} is malformed: ${e.message}`, { hint: e.hint, cause: e });
      throw e;
    }
    for (const [name, t] of contents.tensors) {
      const bad = firstNonFinite(t.data as Float32Array);
      if (bad >= 0) {
        throw new ModelFormatError(target, `${WEIGHTS}: tensor '${name}' holds a non-finite value (${(t.data as Float32Array)[bad]} at element ${bad})`, {
          hint: 'the model diverged or the file was modified; train it again (a lower learning rate avoids divergence)',
        });
      }
    }
    const weights = new Map<string, tf.Tensor>();
    for (const [name, t] of contents.tensors) weights.set(name, tf.tensor(t.data as Float32Array, [...t.shape], 'float32'));
    return { manifest, weights };
  } finally {
    await file.close();
  }
}

/** Index of the first NaN or ±Infinity in `data`, or −1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

/**
 * Reads a file written into a model directory besides its manifest and weights (see
 * {@link ModelDirContents.files}) as text; null when the directory does not hold it (e.g. a model
 * folder written before the file existed).
 */
export async function readModelDirFile(dir: string, name: string): Promise<string | null> {
  const target = path.resolve(dir);
  checkExtraFileName(target, name);
  try {
    return await fsp.readFile(path.join(target, name), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ModelFormatError(target, `cannot read ${name} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
}
