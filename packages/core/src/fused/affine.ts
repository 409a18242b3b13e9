import { tf } from '../tf';
import { engineValues } from '../wasm/kernels';
import { fusedThreads, threadedLimit, threadsAvailable, type FusedThreads, type SplitTask } from './threads';

/**
 * Products of a linear layer on the shared-memory kernels of `gemm.wat`, split among the threads of
 * a {@link FusedThreads} pool by panels of 8 output columns (each thread packs the panels it
 * multiplies by, so one run needs no barrier between packing and product). Every output element is
 * one fixed-order sum, so 1 and N threads give bit-identical results.
 */

const PANEL = 8;

/** A new tensor holding `view`'s values (the wasm engine copies them into its memory; others may keep the array, so they get a copy). */
export function toTensor(view: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? view : view.slice(), shape, 'float32');
}

/** Copies tensor `t` into the pool's memory; returns its byte offset. */
function stage(pool: FusedThreads, t: tf.Tensor): number {
  const at = pool.alloc(t.size);
  pool.write(at, engineValues(t));
  return at;
}

function panels(n: number): number {
  return Math.ceil(n / PANEL);
}

/** Tasks computing C [m, n] = A · Bᵀ-or-B with B packed per thread; see {@link productTasks}. */
export interface Product {
  /** A(i, p) at a + 4(i·si + p·sp). */
  a: number;
  si: number;
  sp: number;
  /** B(p, j) at b + 4(p·bp + j·bj) before packing. */
  b: number;
  bp: number;
  bj: number;
  /** Packing scratch (panels(n)·8·k values). */
  packed: number;
  c: number;
  bias: number;
  m: number;
  n: number;
  k: number;
}

/** Pack B's panels, then multiply, each thread over its own panels of output columns. */
export function productTasks(p: Product): SplitTask[] {
  const units = panels(p.n);
  return [
    { kernel: 'packPanels', args: [p.b, p.bp, p.bj, p.k, p.n, p.packed, 0, 0], splitAt: 6, units },
    { kernel: 'gemm', args: [p.a, p.si, p.sp, p.packed, p.c, p.n, p.bias, p.n, p.k, 0, p.m, 0, 0], splitAt: 11, units },
  ];
}

/** Byte offsets and sizes of a linear layer's products: x `[m, k]`, W `[n, k]`, bias `[n]` (or 0). */
export interface AffineBuffers {
  m: number;
  k: number;
  n: number;
}

/** The tasks of out `[m, n]` = x · Wᵀ + bias, packing Wᵀ into `packed` (panels(n)·8·k values). */
export function affineForwardTasks(o: AffineBuffers & { x: number; w: number; bias: number; packed: number; out: number }): SplitTask[] {
  // B = Wᵀ: B(p, j) = W[j, p]
  return productTasks({ a: o.x, si: o.k, sp: 1, b: o.w, bp: 1, bj: o.k, packed: o.packed, c: o.out, bias: o.bias, m: o.m, n: o.n, k: o.k });
}

/**
 * The tasks of the gradients from dy `[m, n]`: dx `[m, k]` = dy · W (when `dx` ≠ 0; W packed into
 * `packW`, panels(k)·8·n values), dW `[n, k]` = dyᵀ · x (x packed into `packX`, panels(k)·8·m values)
 * and db `[n]` = Σ_rows dy. On one thread packW and packX may be the same buffer (the tasks run in order).
 */
export function affineBackwardTasks(o: AffineBuffers & { dy: number; x: number; w: number; dx: number; dw: number; db: number; packW: number; packX: number }): SplitTask[] {
  const { m, k, n, dy } = o;
  const tasks: SplitTask[] = [];
  // dx [m, k] = dy [m, n] · W [n, k]: B = W, reduction over n
  if (o.dx) tasks.push(...productTasks({ a: dy, si: n, sp: 1, b: o.w, bp: k, bj: 1, packed: o.packW, c: o.dx, bias: 0, m, n: k, k: n }));
  // dW [n, k] = dyᵀ · x: A(i, p) = dy[p, i], B = x [m, k], reduction over the m rows
  tasks.push(...productTasks({ a: dy, si: 1, sp: n, b: o.x, bp: k, bj: 1, packed: o.packX, c: o.dw, bias: 0, m: n, n: k, k: m }));
  tasks.push({ kernel: 'colSums', args: [dy, n, m, o.db, 0, 0], splitAt: 4, units: n, align: 4 });
  return tasks;
}

/** `x · Wᵀ + b` for x `[m, k]`, W `[n, k]`, b `[n]` on the pool; returns a new tensor `[m, n]`. */
export function affineForward(pool: FusedThreads, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  const [m, k] = x.shape;
  const n = w.shape[0];
  pool.reset();
  const xa = stage(pool, x);
  const wa = stage(pool, w);
  const ba = b ? pool.alloc(panels(n) * PANEL) : 0;
  if (b) pool.write(ba, engineValues(b));
  const packed = pool.alloc(panels(n) * PANEL * k);
  const out = pool.alloc(m * n);
  pool.run(affineForwardTasks({ x: xa, w: wa, bias: ba, packed, out, m, k, n }));
  return toTensor(pool.view(out, m * n), [m, n]) as tf.Tensor2D;
}

/**
 * Gradients of `x · Wᵀ + b` from dy `[m, n]`: dx = dy · W `[m, k]` (when `inputGrad`), dW = dyᵀ · x
 * `[n, k]` and db = Σ_rows dy `[n]`, in one run on the pool.
 */
export function affineBackward(
  pool: FusedThreads, dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, inputGrad: boolean,
): { dx: tf.Tensor2D | null; dw: tf.Tensor2D; db: tf.Tensor1D } {
  const [m, k] = x.shape;
  const n = w.shape[0];
  pool.reset();
  const dya = stage(pool, dy);
  const xa = stage(pool, x);
  const wa = inputGrad ? stage(pool, w) : 0;
  const dxa = inputGrad ? pool.alloc(m * k) : 0;
  const dwa = pool.alloc(n * k);
  const dba = pool.alloc(n);
  const packW = inputGrad ? pool.alloc(panels(k) * PANEL * n) : 0;
  const packX = pool.alloc(panels(k) * PANEL * m);
  pool.run(affineBackwardTasks({ dy: dya, x: xa, w: wa, dx: dxa, dw: dwa, db: dba, packW, packX, m, k, n }));
  return {
    dx: inputGrad ? (toTensor(pool.view(dxa, m * k), [m, k]) as tf.Tensor2D) : null,
    dw: toTensor(pool.view(dwa, n * k), [n, k]) as tf.Tensor2D,
    db: toTensor(pool.view(dba, n), [n]) as tf.Tensor1D,
  };
}

/** Number of forward products run by {@link threadedAffine} (tests check which path ran). */
export const threadedStats = { forward: 0 };

/** Which layers run on the threaded products (internal: tests lower it). */
export const threadedLimits = {
  /** Smallest batch × in × out of a linear layer that runs on the threaded products. */
  minMacs: threadedLimit(1 << 20),
};

/**
 * Whether {@link threadedAffine} should run `x · Wᵀ` (x `[m, k]`, W `[n, k]`): float32 operands on a
 * JavaScript-memory engine (wasm, cpu) and at least `minMacs` multiply-adds.
 */
export function threadedAffineApplies(x: tf.Tensor, w: tf.Tensor, minMacs = threadedLimits.minMacs): boolean {
  const backend = tf.getBackend();
  return (
    (backend === 'wasm' || backend === 'cpu') &&
    x.rank === 2 &&
    w.rank === 2 &&
    x.dtype === 'float32' &&
    w.dtype === 'float32' &&
    x.shape[1] === w.shape[1] &&
    x.shape[0]! * x.shape[1]! * w.shape[0]! >= minMacs &&
    threadsAvailable()
  );
}

/**
 * The affine map `x · Wᵀ + b` (weight `[out, in]`, bias `[out]`) as one taped operation whose three
 * products (forward, dx = dy · W, dW = dyᵀ · x) and db run on the fused kernels' threads. With
 * `inputGrad: false` no gradient is computed for `x` (data).
 */
export function threadedAffine(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, opts: { inputGrad?: boolean; pool?: FusedThreads } = {}): tf.Tensor2D {
  const pool = opts.pool ?? fusedThreads();
  threadedStats.forward++;
  const inputGrad = opts.inputGrad !== false;
  if (inputGrad) {
    const f = tf.customGrad(((xv: tf.Tensor2D, wv: tf.Tensor2D, bv: tf.Tensor1D, save: tf.GradSaveFunc) => {
      save([xv, wv]);
      return {
        value: affineForward(pool, xv, wv, bv),
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
          const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
          const g = affineBackward(pool, dy, xs, ws, true);
          return [g.dx!, g.dw, g.db];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
    return f(x, w, b);
  }
  const f = tf.customGrad(((wv: tf.Tensor2D, bv: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([x, wv]);
    return {
      value: affineForward(pool, x, wv, bv),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const g = affineBackward(pool, dy, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, false);
        return [g.dw, g.db];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
  return f(w, b);
}
