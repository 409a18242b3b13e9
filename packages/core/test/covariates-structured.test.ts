import { describe, expect, it } from 'vitest';
import {
  CovariateEncoder,
  CovariateError,
  DoseEncoder,
  InteractionEncoder,
  OrdinalEncoder,
  type CovariateEncoderState,
} from '../src/index';

function rows(m: { nRows: number; nCols: number; data: Float32Array }): number[][] {
  return Array.from({ length: m.nRows }, (_, i) => Array.from(m.data.subarray(i * m.nCols, (i + 1) * m.nCols)));
}

function collect(): { warn: (m: string) => void; messages: string[] } {
  const messages: string[] = [];
  return { warn: (m) => messages.push(m), messages };
}

describe('OrdinalEncoder (thermometer coding)', () => {
  const order = ['healthy', 'mild', 'severe'];

  it('codes each level as the steps up from the lowest, in the given order (not sorted)', () => {
    const e = OrdinalEncoder.fit({ key: 'sev', order }, ['severe', 'healthy', 'mild']);
    expect(e.width).toBe(2);
    expect(e.columnNames()).toEqual(['sev>=mild', 'sev>=severe']);
    expect(Array.from(e.transform(['healthy', 'mild', 'severe']))).toEqual([0, 0, 1, 0, 1, 1]);
  });

  it('is monotone: a higher level never switches a column off', () => {
    const e = OrdinalEncoder.fit({ key: 'grade', order: [1, 2, 3, 4, 5] }, [1, 2, 3, 4, 5]);
    const m = e.transform([1, 2, 3, 4, 5]);
    for (let r = 1; r < 5; r++) for (let j = 0; j < e.width; j++) expect(m[r * e.width + j]!).toBeGreaterThanOrEqual(m[(r - 1) * e.width + j]!);
  });

  it('sorts numeric levels when no order is given, and needs an order for strings', () => {
    const e = OrdinalEncoder.fit({ key: 'g' }, [3, 1, 2, 1]);
    expect(e.levels).toEqual(['1', '2', '3']);
    expect(() => OrdinalEncoder.fit({ key: 'sev' }, ['mild', 'severe'])).toThrow(/order must be given/);
  });

  it('rejects training values outside the order, naming the column', () => {
    try {
      OrdinalEncoder.fit({ key: 'sev', order }, ['mild', 'critical']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CovariateError);
      expect((e as CovariateError).column).toBe('sev');
      expect((e as Error).message).toContain('"critical"');
    }
    expect(() => OrdinalEncoder.fit({ key: 'sev', order: ['a', 'a'] }, ['a'])).toThrow(/listed twice/);
    expect(() => OrdinalEncoder.fit({ key: 'sev', order: ['a'] }, ['a'])).toThrow(/at least 2 levels/);
  });

  it('maps unknown and missing values to zeros with a warning, and round-trips through JSON', () => {
    const e = OrdinalEncoder.fit({ key: 'sev', order }, ['mild']);
    const { warn, messages } = collect();
    expect(Array.from(e.transform(['critical', null, 'severe'], { warn }))).toEqual([0, 0, 0, 0, 1, 1]);
    expect(messages.join('\n')).toMatch(/'sev'.*critical/);
    expect(messages.join('\n')).toMatch(/1 missing/);
    const back = OrdinalEncoder.fromJSON(JSON.parse(JSON.stringify(e.toJSON())));
    expect(back.levels).toEqual(order);
    expect(() => OrdinalEncoder.fromJSON({ type: 'ordinal', column: 'x', levels: ['a'] })).toThrow(CovariateError);
  });
});

describe('DoseEncoder (log1p, per treatment)', () => {
  it('encodes log1p(dose) in the column of the cell\'s treatment', () => {
    const e = DoseEncoder.fit({ key: 'dose', treatment: 'drug' }, [0, 10, 100, 1], ['ctrl', 'B', 'A', 'A']);
    expect(e.treatments).toEqual(['A', 'B', 'ctrl']);
    expect(e.columnNames()).toEqual(['log1p(dose)|drug=A', 'log1p(dose)|drug=B', 'log1p(dose)|drug=ctrl']);
    const m = e.transform([0, 10, 100, 1], ['ctrl', 'B', 'A', 'A']);
    const expected = [0, 0, 0, 0, Math.log1p(10), 0, Math.log1p(100), 0, 0, Math.log1p(1), 0, 0];
    Array.from(m).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('takes a fixed treatment order, and works without a treatment column', () => {
    const e = DoseEncoder.fit({ key: 'dose', treatment: 'drug', treatments: ['B', 'A'] }, [1, 2], ['A', 'B']);
    expect(e.treatments).toEqual(['B', 'A']);
    const single = DoseEncoder.fit({ key: 'dose' }, [0, 3]);
    expect(single.width).toBe(1);
    expect(Array.from(single.transform([0, 3, 7]))).toEqual([0, Math.fround(Math.log1p(3)), Math.fround(Math.log1p(7))]);
  });

  it('rejects negative, non-finite and missing doses, naming column and row', () => {
    for (const bad of [-1, Number.NaN, null, 'x']) {
      try {
        DoseEncoder.fit({ key: 'dose' }, [1, bad as number]);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CovariateError);
        expect((e as CovariateError).column).toBe('dose');
        expect((e as CovariateError).row).toBe(1);
      }
    }
  });

  it('unseen treatments give zero rows with a warning; state round-trips', () => {
    const e = DoseEncoder.fit({ key: 'dose', treatment: 'drug' }, [1, 2], ['A', 'B']);
    const { warn, messages } = collect();
    expect(Array.from(e.transform([5, 1], ['C', 'A'], { warn }))).toEqual([0, 0, Math.fround(Math.log1p(1)), 0]);
    expect(messages.join('\n')).toMatch(/dose 'dose'.*"C"/);
    const quietRun = collect();
    expect(Array.from(e.transform([0, 0], ['control', null], { warn: quietRun.warn }))).toEqual([0, 0, 0, 0]);
    expect(quietRun.messages).toEqual([]);
    expect(DoseEncoder.fromJSON(JSON.parse(JSON.stringify(e.toJSON()))).toJSON()).toEqual(e.toJSON());
    expect(() => DoseEncoder.fromJSON({ type: 'dose', column: 'd', treatment: 't', treatments: [] })).toThrow(CovariateError);
  });
});

describe('InteractionEncoder (one-hot of combinations)', () => {
  const ct = ['T', 'T', 'B', 'B', 'T'];
  const dis = ['healthy', 'covid', 'healthy', 'healthy', 'covid'];

  it('has one column per combination seen in training', () => {
    const e = InteractionEncoder.fit(['cell_type', 'disease'], [ct, dis]);
    expect(e.columnNames()).toEqual(['cell_type=B×disease=healthy', 'cell_type=T×disease=covid', 'cell_type=T×disease=healthy']);
    expect(rows({ nRows: 5, nCols: 3, data: e.transform([ct, dis]) })).toEqual([
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });

  it('maps unseen combinations (B × covid) and missing values to zeros with a warning', () => {
    const e = InteractionEncoder.fit(['cell_type', 'disease'], [ct, dis]);
    const { warn, messages } = collect();
    const m = e.transform([['B', 'T', null], ['covid', 'covid', 'healthy']], { warn });
    expect(rows({ nRows: 3, nCols: 3, data: m })).toEqual([
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    expect(messages.join('\n')).toMatch(/cell_type×disease.*B×covid/);
    expect(messages.join('\n')).toMatch(/1 cell\(s\) have a missing value/);
  });

  it('names the columns on bad specs and round-trips through JSON', () => {
    expect(() => InteractionEncoder.fit(['a'], [[1]])).toThrow(CovariateError);
    expect(() => InteractionEncoder.fit(['a', 'b'], [[1, 2], [1]])).toThrow(/column 'b' has 1 rows/);
    const e = InteractionEncoder.fit(['cell_type', 'disease'], [ct, dis]);
    expect(InteractionEncoder.fromJSON(JSON.parse(JSON.stringify(e.toJSON()))).columnNames()).toEqual(e.columnNames());
  });
});

describe('CovariateEncoder with structured covariates', () => {
  const obs = {
    cell_type: ['T', 'B', 'T', 'B'],
    disease: ['healthy', 'covid', 'covid', 'healthy'],
    severity: ['none', 'severe', 'mild', 'none'],
    drug: ['ctrl', 'A', 'A', 'B'],
    dose: [0, 1, 10, 5],
    age: [30, 40, 50, 60],
  };
  const spec = {
    categorical: ['cell_type'],
    continuous: ['age'],
    ordinal: [{ key: 'severity', order: ['none', 'mild', 'severe'] }],
    interactions: [['cell_type', 'disease']],
    dose: [{ key: 'dose', treatment: 'drug' }],
  };

  it('lays columns out as categorical, continuous, ordinal, interactions, dose', () => {
    const e = CovariateEncoder.fit(spec, obs);
    expect(e.keys).toEqual(['cell_type', 'age', 'severity', 'cell_type×disease', 'dose']);
    expect(e.columnNames()).toEqual([
      'cell_type=B',
      'cell_type=T',
      'age',
      'severity>=mild',
      'severity>=severe',
      'cell_type=B×disease=covid',
      'cell_type=B×disease=healthy',
      'cell_type=T×disease=covid',
      'cell_type=T×disease=healthy',
      'log1p(dose)|drug=A',
      'log1p(dose)|drug=B',
      'log1p(dose)|drug=ctrl',
    ]);
    expect(e.columnRange('dose')).toEqual([9, 12]);
    expect(e.inputColumns).toEqual(['cell_type', 'age', 'severity', 'disease', 'dose', 'drug']);
    const m = e.transform(obs);
    expect(m.nCols).toBe(12);
    const r1 = rows(m)[1]!;
    expect(r1.slice(0, 2)).toEqual([1, 0]);
    expect(r1.slice(3, 5)).toEqual([1, 1]);
    expect(r1.slice(5, 9)).toEqual([1, 0, 0, 0]);
    expect(r1[9]).toBeCloseTo(Math.log1p(1), 6);
  });

  it('saves and reloads every encoder kind (same output after a JSON round trip)', () => {
    const e = CovariateEncoder.fit(spec, obs);
    const state = JSON.parse(JSON.stringify(e.toJSON())) as CovariateEncoderState;
    const back = CovariateEncoder.fromJSON(state);
    expect(Array.from(back.transform(obs).data)).toEqual(Array.from(e.transform(obs).data));
  });

  it('a missing column at transform time gives zero columns and a warning; fitting names it', () => {
    const e = CovariateEncoder.fit(spec, obs);
    const { warn, messages } = collect();
    const { disease: _d, ...rest } = obs;
    const m = e.transform(rest, { warn });
    for (const r of rows(m)) expect(r.slice(5, 9)).toEqual([0, 0, 0, 0]);
    expect(messages.join('\n')).toMatch(/interaction cell_type×disease: column\(s\) 'disease' missing/);
    expect(() => CovariateEncoder.fit(spec, rest)).toThrow(/Covariate 'disease' is not among the training columns/);
  });

  it('rejects a key listed twice and malformed entries', () => {
    expect(() => CovariateEncoder.fit({ continuous: ['dose'], dose: [{ key: 'dose' }] }, obs)).toThrow(/listed twice/);
    expect(() => CovariateEncoder.fit({ interactions: [['a', 'b'], ['a', 'b']] }, obs)).toThrow(/listed twice/);
    expect(() => CovariateEncoder.fit({ ordinal: [{} as { key: string }] }, obs)).toThrow(/needs a 'key'/);
  });

  it('leaves the categorical + continuous layout unchanged (backwards compatible)', () => {
    const e = CovariateEncoder.fit({ categorical: ['cell_type'], continuous: ['age'] }, obs);
    expect(e.toJSON().encoders.map((x) => x.type)).toEqual(['categorical', 'continuous']);
    expect(e.columnNames()).toEqual(['cell_type=B', 'cell_type=T', 'age']);
  });
});
