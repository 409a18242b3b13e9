import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, fillNormal } from '@invae/core';
import { describe, expect, it } from 'vitest';
import { BenchInputError, loess } from '../src/index';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A case written by fixtures/loess-r/make-loess-reference.R with R's stats::loess (netlib dloess). */
function readCase(name: string) {
  const lines = fs.readFileSync(path.join(here, 'fixtures', 'loess-r', `${name}.tsv`), 'utf8').trim().split('\n');
  const [, span, degree] = /span=([\d.]+) degree=(\d)/.exec(lines[0]!)!;
  const rows = lines.slice(2).map((l) => l.split('\t').map(Number));
  return {
    span: Number(span),
    degree: Number(degree) as 0 | 1 | 2,
    x: rows.map((r) => r[0]!),
    y: rows.map((r) => r[1]!),
    interpolate: rows.map((r) => r[2]!),
    direct: rows.map((r) => r[3]!),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('loess against R (same dloess code as scikit-misc)', () => {
  for (const name of ['sine', 'ties', 'degree1', 'meanvar']) {
    it(`${name}: interpolated and direct surfaces agree with R to 1e-12`, () => {
      const c = readCase(name);
      const interp = loess(c.x, c.y, { span: c.span, degree: c.degree });
      expect(interp.surface).toBe('interpolate');
      expect(maxAbsDiff(interp.fitted, c.interpolate)).toBeLessThan(1e-12);
      const direct = loess(c.x, c.y, { span: c.span, degree: c.degree, surface: 'direct' });
      expect(maxAbsDiff(direct.fitted, c.direct)).toBeLessThan(1e-12);
      // The two surfaces differ (interpolation is an approximation), but only slightly.
      expect(maxAbsDiff(interp.fitted, direct.fitted)).toBeGreaterThan(0);
    });
  }
});

describe('loess properties', () => {
  it('reproduces a quadratic exactly with degree 2 (both surfaces) and a line with degree 1', () => {
    const rng = new Rng(3);
    const x = Array.from(fillNormal(rng, 300));
    const quad = x.map((v) => 1 - 2 * v + 0.5 * v * v);
    for (const surface of ['interpolate', 'direct'] as const) {
      const f = loess(x, quad, { span: 0.3, degree: 2, surface });
      expect(maxAbsDiff(f.fitted, quad)).toBeLessThan(1e-9);
      expect(f.predict(0.25)).toBeCloseTo(1 - 0.5 + 0.5 * 0.0625, 9);
    }
    const line = x.map((v) => 3 + 0.7 * v);
    expect(maxAbsDiff(loess(x, line, { span: 0.5, degree: 1 }).fitted, line)).toBeLessThan(1e-9);
  });

  it('does not modify its inputs and returns fitted values in input order', () => {
    const x = Float64Array.from([5, 1, 4, 2, 3, 9, 7, 8, 6, 0, 11, 10]);
    const y = Float64Array.from(x, (v) => v * v);
    const xs = Float64Array.from(x);
    const ys = Float64Array.from(y);
    const f = loess(x, y, { span: 0.8 });
    expect(Array.from(x)).toEqual(Array.from(xs));
    expect(Array.from(y)).toEqual(Array.from(ys));
    for (let i = 0; i < x.length; i++) expect(f.fitted[i]).toBeCloseTo(y[i]!, 8);
  });

  it('rejects bad input with typed errors', () => {
    expect(() => loess([1, 2, 3], [1, 2])).toThrow(BenchInputError);
    expect(() => loess([1, 2, NaN, 4, 5, 6], [1, 2, 3, 4, 5, 6])).toThrow(/not finite/);
    expect(() => loess([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], { span: 0.3 })).toThrow(/too few/);
    // Every neighbour tied at the evaluation point: the local fit is undefined.
    expect(() => loess([...Array(20).fill(1), 2, 3], Array.from({ length: 22 }, (_, i) => i), { span: 0.3, surface: 'direct' })).toThrow(/span is too small/);
    const f = loess([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1, 4, 9, 16, 25, 36, 49, 64, 81], { span: 0.9 });
    expect(() => f.predict(20)).toThrow(/outside the fitted range/);
  });
});
