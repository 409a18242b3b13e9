/** `array` 0.2.0: dense n-d arrays (numeric datasets); also datasets without encoding attributes (anndata < 0.8). */
import type { Dataset, Group } from '../h5';
import type { DenseMatrix, NumericArray } from '../anndata';
import { datasetInfo, readNumeric, readStrings, isNumericDtype } from '../read/dataset';
import { hasAttr } from '../read/attrs';
import { dtypeCode, gzipOptions, writeNumeric } from '../write/elements';
import { asDataset } from './element';
import { readCompound } from './rec-array';
import { defineEncoding, SKIPPED, type ReadContext, type WriteContext } from './registry';
import { isBlockStream, restOf, type BlockStream } from './row-blocks';

/** Reads an `array` element: numeric → DenseMatrix (scalars → number), strings → string[], compound → record. */
export function readArray(elem: Dataset | Group, ctx: ReadContext): unknown {
  const ds = asDataset(elem, ctx, 'array');
  const info = datasetInfo(ds, ctx.file);
  if (info.dtype === 'str') {
    if (info.shape && info.shape.length === 0) return readStrings(ds, ctx.file)[0];
    const strs = readStrings(ds, ctx.file);
    // anndata < 0.7 stored string scalars as one-element fixed-length byte-string arrays; anndata reads them as str
    if (strs.length === 1 && info.shape?.length === 1 && !ds.metadata.vlen && !hasAttr(ds, 'encoding-type')) return strs[0];
    return strs;
  }
  if (info.dtype === 'compound') return readCompound(ds, ctx);
  if (!isNumericDtype(info.dtype)) {
    ctx.warn(ds.path, `skipped dataset of unsupported dtype ${info.dtype}`);
    return SKIPPED;
  }
  const data = readNumeric(ds, ctx.file);
  if (info.shape && info.shape.length === 0) {
    return info.dtype === 'bool' ? data[0] !== 0 : Number(data[0]);
  }
  const m: DenseMatrix = { kind: 'dense', shape: info.shape ?? [0], dtype: info.dtype, data };
  return m;
}

/** What the `array` writer takes: a dense matrix, a 1-D typed array (dtype from its type), or dense row blocks. */
export type DenseArrayValue = DenseMatrix | NumericArray | BigInt64Array | BlockStream<DenseMatrix>;

function createDense(g: Group, name: string, v: DenseArrayValue, ctx: WriteContext): Dataset {
  if (isBlockStream(v)) {
    const [nr, nc] = v.shape;
    const { start, end, matrix } = v.first;
    return g.create_dataset({
      name,
      data: matrix.data as Float32Array,
      shape: [end - start, nc],
      maxshape: [null, nc],
      dtype: dtypeCode(matrix.data) ?? '<d',
      chunks: [Math.max(1, Math.min(1024, nr)), Math.max(1, nc)],
      ...gzipOptions(ctx),
    });
  }
  if (ArrayBuffer.isView(v)) return writeNumeric(g, name, v, [v.length], ctx);
  // h5wasm cannot write HDF5 enums: booleans are stored as uint8 (documented dtype loss)
  if (v.dtype === 'bool') return writeNumeric(g, name, Uint8Array.from(v.data as ArrayLike<number>, (x) => (x ? 1 : 0)), v.shape, ctx);
  return writeNumeric(g, name, v.data, v.shape, ctx, v.dtype);
}

/** The `array` encoding. */
export const denseArray = defineEncoding<DenseArrayValue>({
  type: 'array',
  version: '0.2.0',
  read: readArray,
  write: {
    create: createDense,
    fill(elem, v) {
      if (!isBlockStream(v)) return;
      const ds = elem as Dataset;
      const nc = v.shape[1];
      for (const b of restOf(v)) {
        ds.resize([b.end, nc]);
        ds.write_slice([[b.start, b.end]], b.matrix.data);
      }
    },
  },
});
