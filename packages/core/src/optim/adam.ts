import * as tf from '@tensorflow/tfjs';
import { InvalidOptionError } from '../errors';
import { defineJsKernel, jsKernelsAvailable } from '../nn/js-kernel';
import { deferGradients, isDeferred, settle } from '../fused/deferred-gradients';
import { fastPaths } from '../nn/fast-paths';
import { dataWrittenInPlace, engineOffset, simdKernels, simdKernelsFor, soleOffset } from '../wasm/kernels';

/** Hyper-parameters of {@link Adam}. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  learningRate?: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to the bias-corrected root of the second moment (default 1e-8). */
  epsilon?: number;
  /** L2 penalty added to the gradient, `grad + weightDecay·param` (torch.optim.Adam's coupled weight_decay; default 0). */
  weightDecay?: number;
}

/** Saved optimiser state (plain data; JSON-serialisable after `Array.from` of the moments). */
export interface AdamState {
  /** Number of steps taken. */
  step: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Variable names, in order. */
  names: string[];
  /** First moments, one flat array per variable. */
  m: Float32Array[];
  /** Second moments, one flat array per variable. */
  v: Float32Array[];
}

/** AdamGradients aligned with the variables (array) or keyed by variable name (as `tf.variableGrads` returns). */
export type AdamGradients = readonly tf.Tensor[] | tf.NamedTensorMap;

function checkRange(name: string, value: number, lo: number, hi: number, loOpen = false, hiOpen = true): number {
  const okLo = loOpen ? value > lo : value >= lo;
  const okHi = hiOpen ? value < hi : value <= hi;
  if (typeof value !== 'number' || !Number.isFinite(value) || !okLo || !okHi) {
    throw new InvalidOptionError(name, `Adam ${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${value}.`);
  }
  return value;
}

/**
 * Variables up to this size are updated by one JavaScript kernel each: for them the ~13 tensor ops
 * of the elementwise form cost more in dispatch than in arithmetic. Larger ones keep the tensor ops
 * (vectorised on wasm, faster than a scalar JavaScript loop) unless the SIMD kernels run (wasm
 * engine): then the kernel's one float32 SIMD pass updates every variable.
 */
const ADAM_KERNEL_MAX_SIZE = 32768;

let adamKernel: ReturnType<typeof defineJsKernel> | null = null;

/** One Adam update (inputs θ, g, m, v; outputs the new θ, m, v) in one pass: float32 SIMD on the wasm engine, else a double-precision JavaScript loop. */
function adamStepKernel(): ReturnType<typeof defineJsKernel> {
  adamKernel ??= defineJsKernel({
    name: 'InvaeAdamStep',
    inputs: ['p', 'g', 'm', 'v'],
    outputShapes: ([p]) => [p!.slice(), p!.slice(), p!.slice()],
    body: ([p, g, m, v], [pOut, mOut, vOut], _shapes, { beta1, beta2, weightDecay, epsilon, bc2Sqrt, stepSize }) => {
      const b1 = beta1!;
      const b2 = beta2!;
      const wd = weightDecay!;
      const eps = epsilon!;
      const bc2 = bc2Sqrt!;
      const step = stepSize!;
      const k = simdKernelsFor([p!, g!, m!, v!, pOut!, mOut!, vOut!]);
      if (k) {
        // float32 SIMD on the engine's memory (torch's float32 arithmetic)
        k.adam(p!.byteOffset, g!.byteOffset, m!.byteOffset, v!.byteOffset, pOut!.byteOffset, mOut!.byteOffset, vOut!.byteOffset, p!.length, b1, b2, wd, eps, bc2, step);
        return;
      }
      for (let i = 0; i < p!.length; i++) {
        const pi = p![i]!;
        const gi = g![i]! + wd * pi;
        const mi = b1 * m![i]! + (1 - b1) * gi;
        const vi = b2 * v![i]! + (1 - b2) * gi * gi;
        mOut![i] = mi;
        vOut![i] = vi;
        pOut![i] = pi - (step * mi) / (Math.sqrt(vi) / bc2 + eps);
      }
    },
  });
  return adamKernel;
}

/**
 * Adam with the exact update of `torch.optim.Adam` (amsgrad off, not decoupled):
 *
 * ```
 * g ← grad + weightDecay·θ
 * m ← β1·m + (1−β1)·g
 * v ← β2·v + (1−β2)·g²
 * θ ← θ − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
 * ```
 *
 * It updates a fixed list of `tf.Variable`s in place; moments live in non-trainable variables and
 * every step runs inside `tf.tidy`, so the tensor count stays constant across steps.
 */
export class Adam {
  private readonly vars: readonly tf.Variable[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private stepCount = 0;
  private lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private disposed = false;

  constructor(variables: readonly tf.Variable[], options: AdamOptions = {}) {
    if (variables.length === 0) throw new InvalidOptionError('variables', 'Adam needs at least one variable to optimise.');
    const names = new Set<string>();
    for (const v of variables) {
      if (v.dtype !== 'float32') throw new InvalidOptionError('variables', `Adam can only update float32 variables; '${v.name}' is ${v.dtype}.`);
      if (names.has(v.name)) throw new InvalidOptionError('variables', `Variable '${v.name}' is listed twice.`);
      names.add(v.name);
    }
    this.lr = checkRange('learningRate', options.learningRate ?? 1e-3, 0, Infinity);
    this.beta1 = checkRange('beta1', options.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkRange('beta2', options.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkRange('epsilon', options.epsilon ?? 1e-8, 0, Infinity);
    this.weightDecay = checkRange('weightDecay', options.weightDecay ?? 0, 0, Infinity);
    this.vars = variables.slice();
    const zeros = (v: tf.Variable): tf.Variable => {
      const z = tf.zeros(v.shape, 'float32');
      const out = tf.variable(z, false);
      z.dispose();
      return out;
    };
    this.m = this.vars.map(zeros);
    this.v = this.vars.map(zeros);
  }

  /** Current learning rate (schedulers such as ReduceLROnPlateau change it). */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(value: number) {
    this.lr = checkRange('learningRate', value, 0, Infinity);
  }

  /** Number of steps taken so far. */
  get step(): number {
    return this.stepCount;
  }

  /** Variables optimised, in order. */
  get variables(): readonly tf.Variable[] {
    return this.vars;
  }

  private gradList(grads: AdamGradients): tf.Tensor[] {
    const list = Array.isArray(grads)
      ? (grads as readonly tf.Tensor[])
      : this.vars.map((v) => {
          const g = (grads as tf.NamedTensorMap)[v.name];
          if (!g) throw new InvalidOptionError('grads', `No gradient for variable '${v.name}'.`);
          return g;
        });
    if (list.length !== this.vars.length) {
      throw new InvalidOptionError('grads', `Got ${list.length} gradients for ${this.vars.length} variables.`);
    }
    list.forEach((g, i) => {
      const v = this.vars[i]!;
      if (g.shape.length !== v.shape.length || g.shape.some((d, j) => d !== v.shape[j])) {
        throw new InvalidOptionError('grads', `Gradient ${i} has shape [${g.shape}] but variable '${v.name}' has [${v.shape}].`);
      }
    });
    return list as tf.Tensor[];
  }

  /**
   * Applies one update with the given gradients (not disposed: they belong to the caller).
   * @throws InvalidOptionError when gradients are missing or mis-shaped, or after {@link dispose}.
   */
  applyGradients(grads: AdamGradients): void {
    if (this.disposed) throw new InvalidOptionError('optimizer', 'This Adam optimiser was disposed.');
    const list = this.gradList(grads);
    const t = this.stepCount + 1;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(this.beta2, t));
    const stepSize = this.lr / bc1;
    tf.tidy(() => {
      const b1 = tf.scalar(this.beta1);
      const b2 = tf.scalar(this.beta2);
      const omb1 = tf.scalar(1 - this.beta1);
      const omb2 = tf.scalar(1 - this.beta2);
      const wd = tf.scalar(this.weightDecay);
      const eps = tf.scalar(this.epsilon);
      const bc2 = tf.scalar(bc2Sqrt);
      const step = tf.scalar(stepSize);
      const kernel = fastPaths.adamKernel && jsKernelsAvailable() ? adamStepKernel() : null;
      // with the SIMD kernels every variable takes the one-pass update, whatever its size
      const simd = kernel !== null && simdKernels() !== null;
      const attrs = { beta1: this.beta1, beta2: this.beta2, weightDecay: this.weightDecay, epsilon: this.epsilon, bc2Sqrt, stepSize };
      // the variables whose gradients worker threads are still computing (`deferred-gradients`) last:
      // their threads work while the others are updated (each variable's update is independent)
      const order = [...this.vars.keys()].sort((a, b) => Number(isDeferred(list[a]!)) - Number(isDeferred(list[b]!)));
      for (const i of order) {
        const p = this.vars[i]!;
        let g = list[i]!;
        settle(g);
        if (g.dtype !== 'float32') g = g.toFloat();
        if (simd && fastPaths.adamInPlace && this.updateInPlace(i, g, attrs)) continue;
        if (kernel && (simd || p.size <= ADAM_KERNEL_MAX_SIZE)) {
          const [pNew, mNew, vNew] = kernel([p, g, this.m[i]!, this.v[i]!], attrs);
          this.m[i]!.assign(mNew!);
          this.v[i]!.assign(vNew!);
          p.assign(pNew!);
          continue;
        }
        if (this.weightDecay !== 0) g = g.add(p.mul(wd));
        const m = this.m[i]!.mul(b1).add(g.mul(omb1));
        const v = this.v[i]!.mul(b2).add(g.square().mul(omb2));
        const denom = v.sqrt().div(bc2).add(eps);
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        p.assign(p.sub(m.div(denom).mul(step)));
      }
    });
    this.stepCount = t;
  }

  /**
   * The SIMD update of variable `i` written into its own memory and its moments' (the kernel reads each
   * element before it writes it, so the values are those of the kernel with new outputs), where each
   * of the three is its data's only holder; false (nothing done) otherwise. The engine is told the
   * values changed (it keeps packed copies of product weights per tensor).
   */
  private updateInPlace(i: number, g: tf.Tensor, a: { beta1: number; beta2: number; weightDecay: number; epsilon: number; bc2Sqrt: number; stepSize: number }): boolean {
    const k = simdKernels();
    const p = soleOffset(this.vars[i]!);
    const m = soleOffset(this.m[i]!);
    const v = soleOffset(this.v[i]!);
    const go = engineOffset(g);
    if (!k || p === null || m === null || v === null || go === null) return false;
    k.adam(p, go, m, v, p, m, v, this.vars[i]!.size, a.beta1, a.beta2, a.weightDecay, a.epsilon, a.bc2Sqrt, a.stepSize);
    for (const t of [this.vars[i]!, this.m[i]!, this.v[i]!]) dataWrittenInPlace(t);
    return true;
  }

  /**
   * Computes the gradients of the scalar `loss()` with respect to the variables, applies them, and
   * returns the loss value (as a number, after one device read).
   */
  minimize(loss: () => tf.Scalar): number {
    // the fused ops may leave gradients to their worker threads until the update reads them
    return deferGradients(() => {
      const { value, grads } = tf.variableGrads(loss, this.vars as tf.Variable[]);
      try {
        this.applyGradients(grads);
        return value.dataSync()[0]!;
      } finally {
        value.dispose();
        tf.dispose(grads);
      }
    });
  }

  /** Copies the optimiser state to plain arrays (reads from the device). */
  async getState(): Promise<AdamState> {
    return {
      step: this.stepCount,
      learningRate: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
      names: this.vars.map((v) => v.name),
      m: await Promise.all(this.m.map(async (t) => Float32Array.from(await t.data()))),
      v: await Promise.all(this.v.map(async (t) => Float32Array.from(await t.data()))),
    };
  }

  /**
   * Restores moments, step count and learning rate from {@link getState} output. The variables must
   * have the same number and sizes (names are not required to match: tfjs names change per process).
   */
  setState(state: AdamState): void {
    if (!state || !Number.isSafeInteger(state.step) || state.step < 0 || !Array.isArray(state.m) || !Array.isArray(state.v)) {
      throw new InvalidOptionError('state', 'Invalid Adam state.');
    }
    if (state.m.length !== this.vars.length || state.v.length !== this.vars.length) {
      throw new InvalidOptionError('state', `Adam state has ${state.m.length} moments for ${this.vars.length} variables.`);
    }
    this.vars.forEach((p, i) => {
      if (state.m[i]!.length !== p.size || state.v[i]!.length !== p.size) {
        throw new InvalidOptionError('state', `Adam state moment ${i} has ${state.m[i]!.length} values, variable '${p.name}' has ${p.size}.`);
      }
    });
    if (state.beta1 !== this.beta1 || state.beta2 !== this.beta2 || state.epsilon !== this.epsilon || state.weightDecay !== this.weightDecay) {
      throw new InvalidOptionError('state', 'Adam state was saved with different betas, epsilon or weight decay.', {
        hint: 'Create the optimiser with the saved hyper-parameters (state.beta1, ...) before restoring.',
      });
    }
    this.learningRate = state.learningRate;
    tf.tidy(() => {
      this.vars.forEach((p, i) => {
        this.m[i]!.assign(tf.tensor(state.m[i]!, p.shape, 'float32'));
        this.v[i]!.assign(tf.tensor(state.v[i]!, p.shape, 'float32'));
      });
    });
    this.stepCount = state.step;
  }

  /** Frees the moment variables (the optimised variables are left alone). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.m, ...this.v]);
  }
}
