import { LANCZOS_WASM_BASE64 } from './lanczos-binary';

/** A source of uniform random numbers in [0, 1) (e.g. @invae/core's `Rng`). */
export interface UniformSource {
  uniform(): number;
}

/**
 * Eigen-decomposition of a symmetric tridiagonal matrix (diagonal `diag`, off-diagonal `off`, both
 * length m; `off[0]` unused) by implicit QL iterations with Wilkinson shifts. Returns eigenvalues
 * (unsorted) and eigenvectors as columns of a row-major m × m matrix.
 */
export function tridiagonalEigen(diag: Float64Array, off: Float64Array): { values: Float64Array; vectors: Float64Array } {
  const m = diag.length;
  const d = Float64Array.from(diag);
  const e = new Float64Array(m);
  for (let i = 1; i < m; i++) e[i - 1] = off[i]!;
  // The eigenvectors are accumulated transposed (zt[i·m + k] = z[k][i]) so that each rotation
  // sweeps two contiguous rows.
  const zt = new Float64Array(m * m);
  for (let i = 0; i < m; i++) zt[i * m + i] = 1;
  for (let l = 0; l < m; l++) {
    let iter = 0;
    for (;;) {
      let mm = l;
      for (; mm < m - 1; mm++) {
        const dd = Math.abs(d[mm]!) + Math.abs(d[mm + 1]!);
        if (Math.abs(e[mm]!) <= Number.EPSILON * dd) break;
      }
      if (mm === l) break;
      if (iter++ > 60) throw new Error('tridiagonalEigen: no convergence');
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[mm]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = mm - 1;
      let underflow = false;
      for (; i >= l; i--) {
        let f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1]! -= p;
          e[mm] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        const r0 = i * m;
        const r1 = r0 + m;
        for (let k = 0; k < m; k++) {
          f = zt[r1 + k]!;
          zt[r1 + k] = s * zt[r0 + k]! + c * f;
          zt[r0 + k] = c * zt[r0 + k]! - s * f;
        }
      }
      if (underflow && i >= l) continue;
      d[l]! -= p;
      e[l] = g;
      e[mm] = 0;
    }
  }
  const z = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let k = 0; k < m; k++) z[k * m + i] = zt[i * m + k]!;
  return { values: d, vectors: z };
}

/** Dot product of the first `n` entries, four accumulators (≈ 2× faster in V8 than one). */
function dot4(a: Float64Array, b: Float64Array, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/** y += alpha · x on the first `n` entries (unrolled by four). */
function axpy4(alpha: number, x: Float64Array, y: Float64Array, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    y[i]! += alpha * x[i]!;
    y[i + 1]! += alpha * x[i + 1]!;
    y[i + 2]! += alpha * x[i + 2]!;
    y[i + 3]! += alpha * x[i + 3]!;
  }
  for (; i < n; i++) y[i]! += alpha * x[i]!;
}

/** A symmetric linear operator y = A x on vectors of length `n`. */
export interface SymmetricOperator {
  readonly n: number;
  apply(x: Float64Array, y: Float64Array): void;
}

/**
 * The Lanczos basis (`cap` vectors of `n`), the work vector, the re-orthogonalisation dots and the
 * Ritz products in one WebAssembly memory, with the SIMD loops of `lanczos.wat` over it (results
 * bit-identical to the plain loops). Null when `module` is null, the memory would exceed 2 GiB or
 * cannot be allocated. Refers to nothing outside its parameters (it also runs by its source text).
 */
function lanczosStore(module: object | null, n: number, cap: number, count: number) {
  if (module === null) return null;
  const stride = Math.ceil(n / 2) * 16;
  const at = { w: cap * stride, dots: (cap + 1) * stride, s: (cap + 1) * stride + cap * 8 };
  const outAt = at.s + cap * count * 8;
  const bytes = outAt + n * count * 8;
  if (bytes > 2 ** 31) return null;
  type Api = {
    Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
    Instance: new (m: object, imports: object) => { exports: Record<string, (...a: number[]) => void> };
  };
  const wa = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;
  let memory: { buffer: ArrayBuffer };
  let ex: Record<string, (...a: number[]) => void>;
  try {
    memory = new wa.Memory({ initial: Math.ceil(bytes / 65536) });
    ex = new wa.Instance(module, { env: { memory } }).exports;
  } catch {
    return null;
  }
  const buf = memory.buffer;
  return {
    slot: (t: number) => new Float64Array(buf, t * stride, n),
    w: new Float64Array(buf, at.w, n),
    dots: new Float64Array(buf, at.dots, cap),
    /** dots[t] = basis_t · w for t < j. */
    dot: (j: number) => ex.dots!(at.w, 0, stride, j, n, at.dots),
    /** w −= Σ_t dots[t]·basis_t, t < j in order. */
    subtract: (j: number) => ex.subtract!(at.w, 0, stride, j, n, at.dots),
    /** Ritz vectors V·S for the first m basis vectors and S (m × count, row-major). */
    ritz: (m: number, S: Float64Array): Float64Array => {
      new Float64Array(buf, at.s, m * count).set(S);
      ex.ritz!(0, stride, m, n, at.s, count, outAt);
      return new Float64Array(buf, outAt, n * count).slice();
    },
  };
}

/**
 * The `count` eigenpairs of largest magnitude of a symmetric operator (as ARPACK `eigsh(which='LM')`),
 * by Lanczos with full re-orthogonalisation: the Krylov basis grows (restarting with a fresh random
 * direction on breakdown) until the Ritz residuals of the wanted pairs fall below `tol`·‖A‖, the
 * basis spans the space, or it reaches `maxBasis` vectors. Eigenvalues are returned in decreasing
 * order, vectors row-major n × count, with the number of pairs that met the tolerance.
 *
 * With `wasm` (the compiled `lanczos.wat`, see {@link lanczosWasmModule}) and a finite `maxBasis`, the
 * re-orthogonalisation and the Ritz vectors run on WebAssembly SIMD; the results are bit-identical.
 */
export function lanczosLargestMagnitude(
  op: SymmetricOperator,
  count: number,
  rng: UniformSource,
  tol = 1e-8,
  maxBasis = Infinity,
  wasm: object | null = null,
): { values: Float64Array; vectors: Float64Array; converged: number } {
  const n = op.n;
  count = Math.min(count, n);
  const cap = Math.min(n, Math.max(maxBasis, count));
  // With a finite cap the basis is built to the cap at once (one tridiagonal solve).
  let mMax = Number.isFinite(maxBasis) ? cap : Math.min(cap, Math.max(2 * count + 1, 20, count + 40));
  const store = Number.isFinite(maxBasis) ? lanczosStore(wasm, n, cap, count) : null;
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [0];
  const w = store ? store.w : new Float64Array(n);
  const randomUnit = (): Float64Array => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = rng.uniform() - 0.5;
      for (let pass = 0; pass < 2; pass++) for (const b of basis) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += v[i]! * b[i]!;
        for (let i = 0; i < n; i++) v[i]! -= dot * b[i]!;
      }
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm += v[i]! * v[i]!;
      nrm = Math.sqrt(nrm);
      if (nrm > 1e-8) {
        for (let i = 0; i < n; i++) v[i]! /= nrm;
        return v;
      }
    }
    throw new Error('lanczos: could not extend the basis');
  };
  let next = randomUnit();
  let anorm = 0;
  for (;;) {
    while (basis.length < mMax) {
      let v = next;
      if (store) {
        v = store.slot(basis.length);
        v.set(next);
      }
      basis.push(v);
      op.apply(v, w);
      const j = basis.length - 1;
      let a = 0;
      for (let i = 0; i < n; i++) a += w[i]! * v[i]!;
      alpha.push(a);
      // Three-term recurrence, then full re-orthogonalisation: a classical Gram–Schmidt pass,
      // repeated when it removed most of the vector (the DGKS criterion; "twice is enough").
      for (let i = 0; i < n; i++) w[i]! -= a * v[i]!;
      if (j > 0 && beta[j]! !== 0) {
        const prev = basis[j - 1]!;
        const bj = beta[j]!;
        for (let i = 0; i < n; i++) w[i]! -= bj * prev[i]!;
      }
      let before = 0;
      for (let i = 0; i < n; i++) before += w[i]! * w[i]!;
      before = Math.sqrt(before);
      let nrm = 0;
      for (let pass = 0; pass < 2; pass++) {
        if (store) {
          store.dot(basis.length);
          store.subtract(basis.length);
        } else {
          const dots = new Float64Array(basis.length);
          for (let t = 0; t < basis.length; t++) dots[t] = dot4(w, basis[t]!, n);
          for (let t = 0; t < basis.length; t++) axpy4(-dots[t]!, basis[t]!, w, n);
        }
        nrm = 0;
        for (let i = 0; i < n; i++) nrm += w[i]! * w[i]!;
        nrm = Math.sqrt(nrm);
        if (nrm > 0.7 * before) break;
        before = nrm;
      }
      anorm = Math.max(anorm, Math.abs(a) + nrm + (beta[j] ?? 0));
      if (basis.length === n) break;
      if (nrm <= 1e-10 * Math.max(anorm, 1)) {
        // Invariant subspace found: continue from a new direction (off-diagonal 0).
        beta.push(0);
        next = randomUnit();
      } else {
        beta.push(nrm);
        next = new Float64Array(n);
        for (let i = 0; i < n; i++) next[i] = w[i]! / nrm;
      }
    }
    const m = basis.length;
    const { values, vectors } = tridiagonalEigen(Float64Array.from(alpha), Float64Array.from(beta.slice(0, m)));
    const order = Array.from({ length: m }, (_, i) => i).sort((p, q) => Math.abs(values[q]!) - Math.abs(values[p]!));
    const wanted = order.slice(0, count);
    const lastBeta = m < n ? (beta[m] ?? 0) : 0;
    const isConverged = (c: number) => Math.abs(lastBeta * vectors[(m - 1) * m + c]!) <= tol * Math.max(anorm, 1e-300);
    const nConverged = m >= n ? count : wanted.filter(isConverged).length;
    if (nConverged === count || m >= cap) {
      wanted.sort((p, q) => values[q]! - values[p]!);
      const outVals = Float64Array.from(wanted, (c) => values[c]!);
      // Ritz vectors V·S, with S (m × count) contiguous so the inner loop runs along a row.
      const S = new Float64Array(m * count);
      for (let t = 0; t < m; t++) for (let c = 0; c < count; c++) S[t * count + c] = vectors[t * m + wanted[c]!]!;
      if (store) return { values: outVals, vectors: store.ritz(m, S), converged: nConverged };
      const outVecs = new Float64Array(n * count);
      // Per cell, its basis coefficients gathered once, then four outputs accumulated in registers;
      // every entry sums over t in increasing order, as a plain V·S.
      const bcol = new Float64Array(m);
      for (let i = 0; i < n; i++) {
        for (let t = 0; t < m; t++) bcol[t] = basis[t]![i]!;
        const o = i * count;
        let c = 0;
        for (; c + 3 < count; c += 4) {
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let t = 0; t < m; t++) {
            const bt = bcol[t]!;
            const so = t * count + c;
            s0 += bt * S[so]!;
            s1 += bt * S[so + 1]!;
            s2 += bt * S[so + 2]!;
            s3 += bt * S[so + 3]!;
          }
          outVecs[o + c] = s0;
          outVecs[o + c + 1] = s1;
          outVecs[o + c + 2] = s2;
          outVecs[o + c + 3] = s3;
        }
        for (; c < count; c++) {
          let s0 = 0;
          for (let t = 0; t < m; t++) s0 += bcol[t]! * S[t * count + c]!;
          outVecs[o + c] = s0;
        }
      }
      return { values: outVals, vectors: outVecs, converged: nConverged };
    }
    mMax = Math.min(cap, Math.ceil(mMax * 1.5));
  }
}

/**
 * Eigen-decomposition of a small dense symmetric matrix (row-major m × m) by cyclic Jacobi rotations.
 * Returns eigenvalues in decreasing order and the matching eigenvectors as columns (row-major m × m).
 */
export function symmetricEigen(a: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < m; i++) {
      diag += A[i * m + i]! ** 2;
      for (let j = i + 1; j < m; j++) off += A[i * m + j]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = A[p * m + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * m + q]! - A[p * m + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = A[k * m + p]!;
          const akq = A[k * m + q]!;
          A[k * m + p] = c * akp - s * akq;
          A[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = A[p * m + k]!;
          const aqk = A[q * m + k]!;
          A[p * m + k] = c * apk - s * aqk;
          A[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = V[k * m + p]!;
          const vkq = V[k * m + q]!;
          V[k * m + p] = c * vkp - s * vkq;
          V[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => A[j * m + j]! - A[i * m + i]!);
  const values = Float64Array.from(order, (i) => A[i * m + i]!);
  const vectors = new Float64Array(m * m);
  for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) vectors[r * m + c] = V[r * m + order[c]!]!;
  return { values, vectors };
}

/** Orthonormalises the columns of the row-major n × m matrix `y` in place (modified Gram–Schmidt, twice). */
export function orthonormalizeColumns(y: Float64Array, n: number, m: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 0; c < m; c++) {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += y[i * m + c]! * y[i * m + p]!;
        for (let i = 0; i < n; i++) y[i * m + c]! -= dot * y[i * m + p]!;
      }
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm += y[i * m + c]! ** 2;
      nrm = Math.sqrt(nrm);
      const inv = nrm > 1e-300 ? 1 / nrm : 0;
      for (let i = 0; i < n; i++) y[i * m + c]! *= inv;
    }
  }
}

let compiled: object | null | undefined;

/**
 * The compiled `lanczos.wat` for {@link lanczosLargestMagnitude} (compiled once), or null where
 * WebAssembly SIMD is not available.
 */
export function lanczosWasmModule(): object | null {
  if (compiled === undefined) {
    try {
      const wa = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }).WebAssembly;
      compiled = new wa.Module(Buffer.from(LANCZOS_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Source text of the Lanczos eigen-solver and its helpers, each as `const name = (source);`, for
 * evaluation in a helper thread (see `kbet-helper.ts`); these functions use nothing outside this list.
 * It ends with `const lanczosWasm = …;`, the compiled `lanczos.wat` (or null), to pass as
 * {@link lanczosLargestMagnitude}'s `wasm`.
 */
export function lanczosSource(): string {
  const fns = [dot4, axpy4, tridiagonalEigen, lanczosStore, lanczosLargestMagnitude].map((f) => `const ${f.name} = (${f.toString()});`).join('\n');
  return `${fns}\nconst lanczosWasm = (() => { try { return new WebAssembly.Module(Buffer.from('${LANCZOS_WASM_BASE64}', 'base64')); } catch { return null; } })();`;
}
