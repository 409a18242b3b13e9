import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { tf } from '../tf';
import { VERSION } from '../version';
import { parseSafetensors, serializeSafetensors, type SafetensorsInput } from '../io/safetensors';
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
    tensors.set(name, { dtype: 'F32', shape: t.shape, data: (await t.data()) as Float32Array });
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
  const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  await fsp.mkdir(tmp, { recursive: false });
  try {
    await fsp.writeFile(path.join(tmp, WEIGHTS), serializeSafetensors(tensors, { format: MODEL_FORMAT }));
    for (const [name, body] of Object.entries(contents.files ?? {})) await fsp.writeFile(path.join(tmp, name), body);
    await fsp.writeFile(path.join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    if (exists) {
      const old = `${target}.${randomBytes(6).toString('hex')}.old`;
      await fsp.rename(target, old);
      await fsp.rename(tmp, target);
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rename(tmp, target);
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return manifest;
}

/** A model directory read back: its manifest and its weights as tensors (the caller owns them). */
export interface LoadedModelDir {
  manifest: ModelManifest;
  weights: Map<string, tf.Tensor>;
}

/**
 * Reads and validates a model directory: the manifest's format and version, and that
 * `weights.safetensors` holds exactly the float32 tensors, with the shapes, that the manifest lists.
 * @throws ModelFormatError naming the directory and what does not fit.
 */
export async function readModelDir(dir: string): Promise<LoadedModelDir> {
  const target = path.resolve(dir);
  let text: string;
  try {
    text = await fsp.readFile(path.join(target, MANIFEST), 'utf8');
  } catch (e) {
    throw new ModelFormatError(target, `cannot read ${MANIFEST} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      hint: 'pass a directory written by `invae train` or saveModelDir',
      cause: e,
    });
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (e) {
    throw new ModelFormatError(target, `${MANIFEST} is not valid JSON`, { cause: e });
  }
  if (manifest?.format !== MODEL_FORMAT) throw new ModelFormatError(target, `${MANIFEST} is not an invae model manifest (format ${JSON.stringify(manifest?.format)})`);
  if (!Number.isInteger(manifest.formatVersion) || manifest.formatVersion < 1 || manifest.formatVersion > MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(target, `model format version ${manifest.formatVersion} is not supported by @invae/core ${VERSION} (supports ≤ ${MODEL_FORMAT_VERSION})`, {
      hint: 'upgrade @invae/core to read models written by newer releases',
    });
  }
  if (!Array.isArray(manifest.geneNames) || typeof manifest.model !== 'object' || typeof manifest.weights !== 'object') {
    throw new ModelFormatError(target, `${MANIFEST} lacks model, geneNames or weights`);
  }
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(path.join(target, WEIGHTS));
  } catch (e) {
    throw new ModelFormatError(target, `cannot read ${WEIGHTS}`, { cause: e });
  }
  const contents = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path.join(target, WEIGHTS));
  const problems: string[] = [];
  for (const [name, shape] of Object.entries(manifest.weights)) {
    const t = contents.tensors.get(name);
    if (!t) problems.push(`missing tensor '${name}'`);
    else if (t.dtype !== 'F32') problems.push(`'${name}' is ${t.dtype}, expected F32`);
    else if (t.shape.join(',') !== shape.join(',')) problems.push(`'${name}' has shape [${t.shape.join(', ')}], manifest says [${shape.join(', ')}]`);
  }
  for (const name of contents.tensors.keys()) if (!(name in manifest.weights)) problems.push(`unexpected tensor '${name}'`);
  if (problems.length) {
    throw new ModelFormatError(target, `${WEIGHTS} does not match ${MANIFEST}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, {
      hint: 'the directory was modified or only partly copied; save the model again',
    });
  }
  const weights = new Map<string, tf.Tensor>();
  for (const [name, t] of contents.tensors) weights.set(name, tf.tensor(t.data as Float32Array, [...t.shape], 'float32'));
  return { manifest, weights };
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
