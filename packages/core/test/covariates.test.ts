import { describe, expect, it } from 'vitest';
import {
  CategoricalEncoder,
  ContinuousEncoder,
  CovariateEncoder,
  CovariateError,
  InvaeError,
  InvalidOptionError,
} from '../src/index';

function collect() {
  const messages: string[] = [];
  return { warn: (m: string) => messages.push(m), messages };
}

describe('CategoricalEncoder', () => {
  it('fits sorted categories (like scikit-learn) and one-hot encodes', () => {
    const { warn, messages } = collect();
    const e = CategoricalEncoder.fit('batch', ['b2', 'b0', 'b1', 'b0'], { warn });
    expect(e.categories).toEqual(['b0', 'b1', 'b2']);
    expect(Array.from(e.transform(['b1', 'b0', 'b2'], { warn }))).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 1]);
    expect(e.columnNames()).toEqual(['batch=b0', 'batch=b1', 'batch=b2']);
    expect(messages).toEqual([]);
  });

  it('sorts numbers numerically and strings by code point', () => {
    expect(CategoricalEncoder.fit('n', [10, 2, 1, 2]).categories).toEqual(['1', '2', '10']);
    expect(CategoricalEncoder.fit('s', ['10', '2', '1']).categories).toEqual(['1', '10', '2']);
    expect(CategoricalEncoder.fit('s', ['b', 'B', 'a', '\u{1F600}', '\uFF21']).categories).toEqual(['B', 'a', 'b', '\uFF21', '\u{1F600}']);
  });

  it('unseen categories and missing values become zero rows with one warning each', () => {
    const e = CategoricalEncoder.fit('ct', ['T', 'B']);
    const { warn, messages } = collect();
    const m = e.transform(['B', 'NK', null, 'T', 'NK'], { warn });
    expect(Array.from(m)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain("'ct'");
    expect(messages[0]).toContain('"NK"');
    expect(messages[0]).toContain('2 cell(s)');
    expect(messages[1]).toContain('1 missing');
  });

  it('ignores missing values while fitting (with a warning) and rejects an all-missing column', () => {
    const { warn, messages } = collect();
    expect(CategoricalEncoder.fit('d', ['x', null, undefined], { warn }).categories).toEqual(['x']);
    expect(messages[0]).toContain('2 missing');
    expect(() => CategoricalEncoder.fit('d', [null, null])).toThrow(CovariateError);
  });

  it('round-trips through JSON and rejects bad state', () => {
    const e = CategoricalEncoder.fit('ct', ['T', 'B', 'T']);
    const back = CategoricalEncoder.fromJSON(JSON.parse(JSON.stringify(e)));
    expect(back.categories).toEqual(['B', 'T']);
    expect(() => CategoricalEncoder.fromJSON({ type: 'categorical', column: 'x', categories: ['a', 'a'] })).toThrow(CovariateError);
    expect(() => CategoricalEncoder.fromJSON({ type: 'categorical', column: 'x' } as never)).toThrow(CovariateError);
  });
});

describe('ContinuousEncoder', () => {
  it('standardises with the training mean and population sd', () => {
    const e = ContinuousEncoder.fit('age', [1, 2, 3, 4]);
    expect(e.mean).toBe(2.5);
    expect(e.scale).toBeCloseTo(Math.sqrt(1.25), 12);
    const t = e.transform([2.5, 5]);
    expect(t[0]).toBe(0);
    expect(t[1]).toBeCloseTo(2.5 / Math.sqrt(1.25), 6);
  });

  it('a constant column divides by 1; standardize:false passes values through', () => {
    expect(Array.from(ContinuousEncoder.fit('c', [3, 3, 3]).transform([3, 4]))).toEqual([0, 1]);
    const raw = ContinuousEncoder.fit('c', [1, 7], { standardize: false });
    expect(Array.from(raw.transform([1, 7]))).toEqual([1, 7]);
  });

  it('rejects NaN / null / strings with a typed error naming the column and row', () => {
    let err: unknown;
    try {
      ContinuousEncoder.fit('pct_mito', [0.1, Number.NaN]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CovariateError);
    expect(err).toBeInstanceOf(InvaeError);
    expect((err as CovariateError).column).toBe('pct_mito');
    expect((err as CovariateError).row).toBe(1);
    expect((err as CovariateError).code).toBe('COVARIATE_NOT_FINITE');
    expect((err as Error).message).toContain("'pct_mito'");
    const e = ContinuousEncoder.fit('x', [1, 2]);
    expect(() => e.transform([1, null])).toThrow(/row 1/);
    expect(() => e.transform(['a'] as never)).toThrow(CovariateError);
    expect(() => ContinuousEncoder.fit('x', [])).toThrow(CovariateError);
  });
});

describe('CovariateEncoder (composite)', () => {
  const obs = {
    batch: ['b1', 'b0', 'b1'],
    disease: ['healthy', 'sick', 'healthy'],
    age: [30, 50, 40],
  };

  it('stacks categorical then continuous columns into one matrix with names', () => {
    const enc = CovariateEncoder.fit({ categorical: ['batch', 'disease'], continuous: ['age'] }, obs);
    expect(enc.width).toBe(5);
    const m = enc.transform(obs);
    expect(m.nRows).toBe(3);
    expect(m.nCols).toBe(5);
    expect(m.columnNames).toEqual(['batch=b0', 'batch=b1', 'disease=healthy', 'disease=sick', 'age']);
    const sd = Math.sqrt(200 / 3);
    const expected = [0, 1, 1, 0, -10 / sd, 1, 0, 0, 1, 10 / sd, 0, 1, 1, 0, 0];
    Array.from(m.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(enc.categoriesOf('batch')).toEqual(['b0', 'b1']);
    expect(enc.categoriesOf('age')).toBeUndefined();
  });

  it('a missing key at inference gives zero columns and a warning; unknown categories too', () => {
    const enc = CovariateEncoder.fit({ categorical: ['batch', 'disease'] }, obs);
    const { warn, messages } = collect();
    const m = enc.transform({ disease: ['sick', 'unknown'] }, { warn });
    expect(Array.from(m.data)).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    expect(messages.some((s) => s.includes("'batch' is missing"))).toBe(true);
    expect(messages.some((s) => s.includes('"unknown"'))).toBe(true);
    expect(() => enc.transform({}, { warn })).toThrow(CovariateError);
    expect(enc.transform({}, { warn, nRows: 2 }).data).toEqual(new Float32Array(8));
  });

  it('checks lengths, duplicate keys and missing training columns', () => {
    expect(() => CovariateEncoder.fit({ categorical: ['batch', 'batch'] }, obs)).toThrow(InvalidOptionError);
    expect(() => CovariateEncoder.fit({ categorical: ['nope'] }, obs)).toThrow(/not among the training columns/);
    expect(() => CovariateEncoder.fit({ categorical: ['batch'], continuous: ['age'] }, { batch: ['a'], age: [1, 2] })).toThrow(CovariateError);
    const enc = CovariateEncoder.fit({ categorical: ['batch'] }, obs);
    expect(() => enc.transform({ batch: ['b0'] }, { nRows: 2 })).toThrow(/expected 2/);
  });

  it('round-trips through JSON with identical output, and does not modify inputs', () => {
    const before = JSON.stringify(obs);
    const enc = CovariateEncoder.fit({ categorical: ['disease'], continuous: ['age'] }, obs);
    const json = JSON.parse(JSON.stringify(enc.toJSON()));
    const back = CovariateEncoder.fromJSON(json);
    expect(back.keys).toEqual(['disease', 'age']);
    expect(back.transform(obs).data).toEqual(enc.transform(obs).data);
    expect(JSON.stringify(obs)).toBe(before);
    expect(() => CovariateEncoder.fromJSON({ format: 'other' } as never)).toThrow(CovariateError);
  });

  it('an empty spec encodes zero columns', () => {
    const enc = CovariateEncoder.fit({}, obs);
    expect(enc.width).toBe(0);
    expect(enc.transform(obs, { nRows: 3 }).data.length).toBe(0);
  });
});
