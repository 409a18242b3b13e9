import { fillNormal } from '../random/distributions';
import type { Rng } from '../random/rng';

/** A dense float64 matrix, row-major. */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

/**
 * Orthonormalises the shorter side of `m` in place (modified Gram–Schmidt): the rows when
 * rows ≤ cols, else the columns — the role of `qr(W.T)[0].T` in the reference simulator.
 */
function orthonormalise(m: Mat): void {
  const byRow = m.rows <= m.cols;
  const count = byRow ? m.rows : m.cols;
  const len = byRow ? m.cols : m.rows;
  const at = (k: number, i: number) => (byRow ? k * m.cols + i : i * m.cols + k);
  for (let k = 0; k < count; k++) {
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let i = 0; i < len; i++) dot += m.data[at(k, i)]! * m.data[at(j, i)]!;
      for (let i = 0; i < len; i++) m.data[at(k, i)] -= dot * m.data[at(j, i)]!;
    }
    let norm = 0;
    for (let i = 0; i < len; i++) norm += m.data[at(k, i)]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < len; i++) m.data[at(k, i)] /= norm;
  }
}

function randomLayer(rng: Rng, rows: number, cols: number, slope: number): Mat {
  const m: Mat = { rows, cols, data: fillNormal(rng, rows * cols) as Float64Array };
  orthonormalise(m);
  // He-style gain for leaky ReLU times a Glorot-style fan term, as the reference.
  const gain = Math.sqrt(2 / (1 + slope * slope)) * Math.sqrt(2 / (rows + cols));
  for (let i = 0; i < m.data.length; i++) m.data[i] *= gain;
  return m;
}

/** Transpose of a matrix (cols × rows), so that output units are contiguous rows. */
function transpose(m: Mat): Mat {
  const t = new Float64Array(m.data.length);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) t[j * m.rows + i] = m.data[i * m.cols + j]!;
  return { rows: m.cols, cols: m.rows, data: t };
}

/**
 * out (n × b) = x (n × a) · w (a × b), given wT (b × a), then leaky ReLU when `slope` is given.
 * Dot products with four accumulators: about twice as fast in V8 as the plain loop.
 */
function dense(x: Float64Array, n: number, wT: Mat, slope: number | null): Float64Array {
  const a = wT.cols;
  const b = wT.rows;
  const wd = wT.data;
  const out = new Float64Array(n * b);
  for (let r = 0; r < n; r++) {
    const xo = r * a;
    const o = r * b;
    for (let c = 0; c < b; c++) {
      const wo = c * a;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < a; k += 4) {
        s0 += x[xo + k]! * wd[wo + k]!;
        s1 += x[xo + k + 1]! * wd[wo + k + 1]!;
        s2 += x[xo + k + 2]! * wd[wo + k + 2]!;
        s3 += x[xo + k + 3]! * wd[wo + k + 3]!;
      }
      for (; k < a; k++) s0 += x[xo + k]! * wd[wo + k]!;
      const v = s0 + s1 + s2 + s3;
      out[o + c] = slope !== null && v < 0 ? v * slope : v;
    }
  }
  return out;
}

/**
 * The random nonlinear decoder of the simulator, after the reference (adapted from Lachapelle et
 * al.): three leaky-ReLU layers with orthogonal, scaled random weights and a linear output layer.
 */
export class RandomDecoder {
  private readonly layers: Mat[];
  /** The layers transposed (output units × input units), used for the forward pass. */
  private readonly layersT: Mat[];
  readonly inputDim: number;
  readonly outputDim: number;
  readonly slope: number;

  constructor(rng: Rng, inputDim: number, hiddenDim: number, outputDim: number, slope: number) {
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.slope = slope;
    this.layers = [
      randomLayer(rng, inputDim, hiddenDim, slope),
      randomLayer(rng, hiddenDim, hiddenDim, slope),
      randomLayer(rng, hiddenDim, hiddenDim, slope),
      randomLayer(rng, hiddenDim, outputDim, slope),
    ];
    this.layersT = this.layers.map(transpose);
  }

  /** Last hidden activations (n × hidden) for latents z (n × inputDim, row-major). */
  hidden(z: Float64Array, n: number): Float64Array {
    let h = z;
    for (let l = 0; l < 3; l++) h = dense(h, n, this.layersT[l]!, this.slope);
    return h;
  }

  /** Output logits (n × outputDim) from hidden activations. */
  logitsFromHidden(h: Float64Array, n: number): Float64Array {
    return dense(h, n, this.layersT[3]!, null);
  }

  /**
   * Exact mean and population standard deviation of all logits of the given hidden activations,
   * without forming the n × outputDim logit matrix: Σ logits = Σ_r h_r·(W 1) and
   * Σ logits² = Σ_r h_rᵀ (W Wᵀ) h_r.
   */
  logitMoments(h: Float64Array, n: number): { mean: number; std: number } {
    const w = this.layers[3]!;
    const H = w.rows;
    const rowSum = new Float64Array(H);
    const gram = new Float64Array(H * H);
    for (let i = 0; i < H; i++) {
      for (let c = 0; c < w.cols; c++) rowSum[i] += w.data[i * w.cols + c]!;
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let c = 0; c < w.cols; c++) s += w.data[i * w.cols + c]! * w.data[j * w.cols + c]!;
        gram[i * H + j] = s;
        gram[j * H + i] = s;
      }
    }
    let sum = 0;
    let sumSq = 0;
    for (let r = 0; r < n; r++) {
      const o = r * H;
      for (let i = 0; i < H; i++) {
        const hi = h[o + i]!;
        if (hi === 0) continue;
        sum += hi * rowSum[i]!;
        let q = 0;
        for (let j = 0; j < H; j++) q += gram[i * H + j]! * h[o + j]!;
        sumSq += hi * q;
      }
    }
    const count = n * w.cols;
    const mean = sum / count;
    const variance = Math.max(0, sumSq / count - mean * mean);
    return { mean, std: Math.sqrt(variance) };
  }
}
