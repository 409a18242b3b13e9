/**
 * The encoding registry: every declared encoding has a reader and a writer (or says why it is read only), and
 * each writer's output is read back by its reader as what was written — through our reader element by element, and
 * through Python anndata 0.8 for a file holding every writable encoding.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as aq from 'arquero';
import { readH5ad, writeH5ad, getReader, type AnnData, type CscMatrix, type CsrMatrix, type DenseMatrix, type Frame } from '../src/index';
import { isGroup, loadH5Writer, openHdf5, type Group, type H5File } from '../src/h5';
import { makeContext } from '../src/read/read-h5ad';
import { ENCODINGS } from '../src/encodings/index';
import { declaredEncodings, writeElement, type Encoding } from '../src/encodings/registry';
import { column } from '../src/encodings/column';
import { int8AttrsToBool, int8DatasetsToBool } from '../src/write/bool-attr';
import { anndataJudge, tmpDir } from './helpers';
import { expectSameAsPython } from './py-compare';

const key = (e: { type: string; version: string }) => `${e.type} ${e.version}`;

/** Encodings without a writer, each for a stated reason (see their modules). Adding one here is a decision. */
const READ_ONLY = ['awkward-array 0.1.0', 'rec-array 0.2.0'];

/** Writable encodings anndata 0.8 cannot read (it reads nullable-string-array from 0.11 on): checked by our reader only. */
const NOT_IN_ANNDATA_08 = ['nullable-string-array 0.1.0'];

/** Values in a comparable form: typed arrays → number arrays, frames → index + column values, recursively. */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x));
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== 'object' || v === null) return v;
  if ('table' in v && 'indexName' in v && 'columns' in v) {
    const f = v as Frame;
    const values = Object.fromEntries(f.table.columnNames().map((c) => [c, plain(Array.from(f.table.array(c) as ArrayLike<unknown>))]));
    return { indexName: f.indexName, columns: f.columns, values };
  }
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plain(x)]));
}

const dense = (shape: number[], dtype: string, data: DenseMatrix['data']): DenseMatrix => ({ kind: 'dense', shape, dtype, data });
const csr: CsrMatrix = { kind: 'csr', shape: [3, 4], dtype: 'float32', data: Float32Array.of(1, 2, 3), indices: Int32Array.of(0, 3, 1), indptr: Float64Array.of(0, 2, 2, 3) };
const csc: CscMatrix = { kind: 'csc', shape: [3, 4], dtype: 'float64', data: Float64Array.of(5, 6), indices: Int32Array.of(2, 0), indptr: Float64Array.of(0, 1, 1, 2, 2) };

/** A frame whose column metadata is exactly what the reader reports for it. */
function frame(): Frame {
  return {
    indexName: 'cell',
    table: aq.table({
      cell: ['c0', 'c1', 'c2'],
      kind: ['a', null, 'b'],
      level: ['lo', 'hi', 'hi'],
      n: Int32Array.of(1, 2, 3),
      score: Float64Array.of(0.5, NaN, -1),
      name: ['x', 'y', 'z é'],
      count: [4, null, -7],
      flag: [true, null, false],
    }),
    columns: {
      kind: { kind: 'categorical', dtype: 'int8', categories: ['a', 'b'], ordered: false },
      level: { kind: 'categorical', dtype: 'int8', categories: ['lo', 'hi'], ordered: true },
      n: { kind: 'numeric', dtype: 'int32' },
      score: { kind: 'numeric', dtype: 'float64' },
      name: { kind: 'string', dtype: 'str' },
      count: { kind: 'nullable-int', dtype: 'int64' },
      flag: { kind: 'nullable-bool', dtype: 'bool' },
    },
  };
}

/** A small AnnData whose every element reads back as written (no documented dtype changes). */
function adata(): AnnData {
  const obs = frame();
  const vr: Frame = { indexName: '_index', table: aq.table({ _index: ['g0', 'g1', 'g2', 'g3'] }), columns: {} };
  return {
    nObs: 3,
    nVars: 4,
    X: csr,
    obs,
    var: vr,
    layers: { counts: dense([3, 4], 'int32', Int32Array.from({ length: 12 }, (_, i) => i)) },
    obsm: { X_pca: dense([3, 2], 'float32', Float32Array.of(1, 2, 3, 4, 5, 6)), meta: frame() },
    varm: {},
    obsp: { distances: { ...csr, shape: [3, 3], indices: Int32Array.of(0, 2, 1) } },
    varp: { corr: { ...csc, shape: [4, 4], indices: Int32Array.of(2, 3) } },
    uns: {
      title: 'run é',
      n_epochs: 40,
      lr: 0.001,
      colors: ['#f00', '#0f0'],
      weights: Float32Array.of(0.25, 0.75),
      nested: { deep: { k: 7 } },
      graph: csc,
    },
    raw: { X: dense([3, 4], 'float32', Float32Array.from({ length: 12 }, (_, i) => i / 2)), var: vr, varm: {} },
  };
}

interface Sample {
  label: string;
  value: unknown;
  /** What the reader gives back, when it is not `value` itself. */
  expected?: unknown;
}

/** At least one sample per writable encoding, keyed by "type version". */
const SAMPLES: Record<string, Sample[]> = {
  'anndata 0.1.0': [{ label: 'AnnData', value: { adata: adata() }, expected: adata() }],
  'raw 0.1.0': [{ label: 'raw', value: adata().raw }],
  'dict 0.1.0': [
    { label: 'nested', value: { s: 'x', n: 2.5, d: { a: Float32Array.of(1, 2) } }, expected: { s: 'x', n: 2.5, d: { a: dense([2], 'float32', Float32Array.of(1, 2)) } } },
    { label: 'empty', value: {} },
  ],
  'array 0.2.0': [
    { label: '2-D float32', value: dense([2, 3], 'float32', Float32Array.of(1, 2, 3, 4, 5, 6)) },
    { label: 'int64', value: dense([3], 'int64', Float64Array.of(-1, 0, 2 ** 40)) },
    { label: 'uint8', value: dense([2, 2], 'uint8', Uint8Array.of(0, 1, 254, 255)) },
    { label: 'typed array', value: Int16Array.of(-3, 4), expected: dense([2], 'int16', Int16Array.of(-3, 4)) },
    { label: 'empty', value: dense([0, 5], 'float32', new Float32Array(0)) },
  ],
  'string-array 0.2.0': [{ label: 'strings', value: ['a', 'é', ''] }],
  'string 0.2.0': [{ label: 'string', value: 'hello' }],
  'numeric-scalar 0.2.0': [
    { label: 'integer', value: 42 },
    { label: 'float', value: -0.5 },
    { label: 'bigint', value: 2n ** 60n, expected: 2 ** 60 },
  ],
  'nullable-integer 0.1.0': [
    { label: 'with missing', value: [3, null, -(2 ** 40), 0], expected: column({ kind: 'nullable-int', dtype: 'int64' }, [3, null, -(2 ** 40), 0]) },
    { label: 'none missing', value: Int32Array.of(1, 2), expected: column({ kind: 'nullable-int', dtype: 'int64' }, [1, 2]) },
  ],
  'nullable-boolean 0.1.0': [{ label: 'with missing', value: [true, null, false, undefined], expected: column({ kind: 'nullable-bool', dtype: 'bool' }, [true, null, false, null]) }],
  'nullable-string-array 0.1.0': [{ label: 'with missing', value: ['a', null, '', 'é'], expected: column({ kind: 'nullable-string', dtype: 'str' }, ['a', null, '', 'é']) }],
  'csr_matrix 0.1.0': [{ label: 'csr', value: csr }],
  'csc_matrix 0.1.0': [{ label: 'csc', value: csc }],
  'dataframe 0.2.0': [{ label: 'frame', value: frame() }],
  'categorical 0.2.0': [
    {
      label: 'ordered strings',
      value: { codes: Int8Array.of(0, 1, -1, 0), categories: ['a', 'b'], ordered: true },
      expected: column({ kind: 'categorical', dtype: 'int8', categories: ['a', 'b'], ordered: true }, ['a', 'b', null, 'a']),
    },
    {
      label: 'numbers',
      value: { codes: Int16Array.of(1, 0), categories: [10, 20], ordered: false },
      expected: column({ kind: 'categorical', dtype: 'int16', categories: [10, 20], ordered: false }, [20, 10]),
    },
  ],
};

/** Writes `value` as /x in encoding `enc` into a new file (closed, booleans fixed); returns the path. */
async function writeOne(dir: string, name: string, enc: Encoding<unknown>, value: unknown): Promise<string> {
  const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.h5`);
  const h5lib = await loadH5Writer();
  const h5 = new h5lib.File(file, 'w') as H5File;
  try {
    writeElement(h5 as Group, 'x', enc, value, { file, compression: 4 });
  } finally {
    h5.close();
  }
  int8AttrsToBool(file);
  int8DatasetsToBool(file);
  return file;
}

/** Reads /x of `file` through the registry; returns the value and its encoding attributes. */
async function readOne(file: string): Promise<{ value: unknown; type: unknown; version: unknown }> {
  const h5 = await openHdf5(file);
  try {
    const x = h5.get('x') as Group;
    const ctx = makeContext(file, h5, (w) => {
      throw new Error(`unexpected warning ${w.element}: ${w.message}`);
    });
    return { value: ctx.read(x), type: x.attrs['encoding-type']?.value, version: x.attrs['encoding-version']?.value };
  } finally {
    h5.close();
  }
}

/** encoding-type attributes of every element of a file. */
async function encodingsIn(file: string): Promise<Set<string>> {
  const h5 = await openHdf5(file);
  const found = new Set<string>();
  const note = (e: Group) => {
    const t = e.attrs['encoding-type']?.value;
    if (typeof t === 'string') found.add(`${t} ${String(e.attrs['encoding-version']?.value)}`);
  };
  const visit = (g: Group) => {
    note(g);
    for (const k of g.keys()) {
      const c: unknown = g.get(k);
      if (isGroup(c)) visit(c);
      else note(c as Group);
    }
  };
  try {
    visit(h5);
  } finally {
    h5.close();
  }
  return found;
}

describe('encoding registry', () => {
  it('declares each encoding once, with its reader registered and a writer unless it is one of the stated read-only ones', () => {
    const all = declaredEncodings();
    expect(all.map(key)).toEqual(ENCODINGS.map(key));
    expect(new Set(all.map(key)).size).toBe(all.length);
    for (const e of all) {
      expect(typeof e.read, key(e)).toBe('function');
      expect(getReader(e.type, e.version), key(e)).toBe(e.read);
      for (const v of e.readsAlso ?? []) expect(getReader(e.type, v), `${key(e)} reads ${v}`).toBe(e.read);
      if (e.write) expect(typeof e.write.create, key(e)).toBe('function');
      else expect(e.readOnly, `${key(e)} has no writer and no reason`).toMatch(/\w/);
    }
    expect(all.filter((e) => !e.write).map(key).sort()).toEqual(READ_ONLY);
  });

  it('writes the encoding attributes in one place only: the registry', () => {
    const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
    const writers = fs
      .readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /create_attribute\(\s*'encoding-(type|version)'/.test(fs.readFileSync(path.join(src, f), 'utf8')));
    expect(writers.map((f) => f.split(path.sep).join('/'))).toEqual(['encodings/registry.ts']);
  });

  it('has a round-trip sample for every writable encoding', () => {
    const writable = declaredEncodings().filter((e) => e.write).map(key).sort();
    expect(Object.keys(SAMPLES).sort()).toEqual(writable);
  });

  it('reads back what each encoding writes, under the attributes it declares', async () => {
    const dir = tmpDir('encodings');
    for (const enc of declaredEncodings().filter((e) => e.write)) {
      for (const s of SAMPLES[key(enc)]) {
        const label = `${key(enc)} (${s.label})`;
        const file = await writeOne(dir, label, enc, s.value);
        const got = await readOne(file);
        expect([got.type, got.version], label).toEqual([enc.type, enc.version]);
        expect(plain(got.value), label).toEqual(plain(s.expected ?? s.value));
      }
    }
  }, 120_000);

  it('refuses to write a read-only encoding with a typed error naming why', async () => {
    const dir = tmpDir('encodings-ro');
    const enc = declaredEncodings().find((e) => e.type === 'awkward-array')!;
    await expect(writeOne(dir, 'ro', enc, [1, null])).rejects.toThrow(/awkward-array 0\.1\.0 cannot be written: awkward arrays are skipped/);
  });

  it('refuses a nullable integer that is not an integer, naming the row', async () => {
    const enc = declaredEncodings().find((e) => e.type === 'nullable-integer')!;
    await expect(writeOne(tmpDir('encodings-nint'), 'bad', enc, [1, null, 2.5])).rejects.toThrow(/value 2\.5 at row 2 is not an integer/);
  });
});

anndataJudge.describe('encoding registry and Python anndata', () => {
  it('a file holding every writable encoding is read by anndata 0.8 as by readH5ad, and as written', async () => {
    const file = path.join(tmpDir('encodings-py'), 'all.h5ad');
    const a = adata();
    await writeH5ad(file, a);
    const found = await encodingsIn(file);
    const writable = declaredEncodings().filter((e) => e.write).map(key);
    expect(writable.filter((k) => !found.has(k) && !NOT_IN_ANNDATA_08.includes(k)), 'writable encodings missing from the file').toEqual([]);
    const back = await readH5ad(file);
    expect(plain(back)).toEqual(plain(a));
    expectSameAsPython(file, back);
  }, 120_000);
});
