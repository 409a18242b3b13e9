import { tf } from '../tf';
import { InvalidOptionError } from '../errors';
import { MLP, type Activation } from '../nn/mlp';
import { SeedStream } from '../nn/variables';
import { Adam } from '../optim/adam';
import { LabelEncoder } from './labels';
import { argmaxRows, checkLatent, crossEntropy, softmaxRows } from './softmax-model';
import { oneHotRows, takeRows } from './rows';
import type { InvariantPredictor, LatentMatrix, Prediction, PredictorState } from './types';

/** Options of {@link EnvironmentClassifier.fit} (defaults of the reference's `irm` classifier). */
export interface EnvironmentClassifierOptions {
  /** Hidden width (default 50). */
  hiddenDim?: number;
  /** Linear layers (default 1 = a linear map to the classes). */
  nLayers?: number;
  /** Activation between layers (default relu). */
  activation?: Activation;
  /** Full-batch epochs (default 500). */
  epochs?: number;
  /** Adam learning rate (default 0.01). */
  learningRate?: number;
  /** Seed of the initialisation (default 0). */
  seed?: number;
}

interface Architecture {
  inputDim: number;
  hiddenDim: number;
  nLayers: number;
  activation: Activation;
}

/**
 * The reference's per-environment classifier: an MLP with log-softmax output whose training loss is
 * the mean over environments (values of the batch key) of each environment's mean negative
 * log-likelihood, so every environment weighs the same whatever its size.
 */
export class EnvironmentClassifier implements InvariantPredictor {
  readonly kind = 'environment' as const;
  private constructor(
    private readonly labels: LabelEncoder,
    private readonly arch: Architecture,
    private readonly net: MLP,
    /** Training loss per epoch. */
    readonly lossCurve: number[] = [],
  ) {}

  /** Class labels in index order. */
  get classes(): readonly string[] {
    return this.labels.classes;
  }

  private static build(arch: Architecture, nClasses: number, seed: number | undefined): MLP {
    return new MLP({ inputDim: arch.inputDim, outputDim: nClasses, hiddenDim: arch.hiddenDim, nLayers: arch.nLayers, activation: arch.activation }, new SeedStream(seed));
  }

  /** Fits on latent rows, their labels and their environments (batches). */
  static fit(latent: LatentMatrix, labels: ArrayLike<string>, environments: ArrayLike<string>, options: EnvironmentClassifierOptions = {}): EnvironmentClassifier {
    checkLatent(latent, null);
    if (labels.length !== latent.nRows) throw new InvalidOptionError('labels', `${labels.length} labels for ${latent.nRows} cells.`);
    if (environments.length !== latent.nRows) throw new InvalidOptionError('environments', `${environments.length} environments for ${latent.nRows} cells.`);
    const enc = LabelEncoder.fit(labels);
    const targets = enc.encode(labels);
    const k = enc.classes.length;
    const arch: Architecture = { inputDim: latent.nCols, hiddenDim: options.hiddenDim ?? 50, nLayers: options.nLayers ?? 1, activation: options.activation ?? 'relu' };
    const net = EnvironmentClassifier.build(arch, k, options.seed ?? 0);
    const groups = new Map<string, number[]>();
    for (let i = 0; i < environments.length; i++) {
      const e = String(environments[i]);
      let g = groups.get(e);
      if (!g) groups.set(e, (g = []));
      g.push(i);
    }
    const envs = [...groups.values()].map((rows) => ({
      x: tf.tensor2d(takeRows(latent, rows), [rows.length, latent.nCols]),
      y: tf.tensor2d(oneHotRows(targets, rows, k), [rows.length, k]),
    }));
    const vars = net.namedVariables().filter((v) => v.trainable).map((v) => v.variable);
    const opt = new Adam(vars, { learningRate: options.learningRate ?? 0.01 });
    const curve: number[] = [];
    try {
      for (let e = 0; e < (options.epochs ?? 500); e++) {
        curve.push(opt.minimize(() => tf.mean(tf.stack(envs.map((env) => crossEntropy(net.forward(env.x, { training: true }), env.y)))) as tf.Scalar));
      }
    } finally {
      opt.dispose();
      tf.dispose(envs.flatMap((e) => [e.x, e.y]));
    }
    return new EnvironmentClassifier(enc, arch, net, curve);
  }

  /** Restores a classifier from {@link toJSON} output. */
  static fromJSON(state: PredictorState): EnvironmentClassifier {
    const s = state as PredictorState & { classes: string[]; architecture: Architecture; weights: Record<string, { shape: number[]; values: number[] }> };
    if (s.kind !== 'environment' || !s.architecture || !s.weights) throw new InvalidOptionError('predictor', 'Invalid environment classifier state.');
    const net = EnvironmentClassifier.build(s.architecture, s.classes.length, undefined);
    for (const v of net.namedVariables()) {
      const w = s.weights[v.name];
      if (!w || w.shape.join(',') !== v.variable.shape.join(',')) throw new InvalidOptionError('predictor', `Environment classifier state lacks or mis-shapes '${v.name}'.`);
      v.variable.assign(tf.tensor(w.values, w.shape));
    }
    return new EnvironmentClassifier(new LabelEncoder(s.classes), s.architecture, net);
  }

  predict(latent: LatentMatrix): Prediction {
    checkLatent(latent, this.arch.inputDim);
    const logits = tf.tidy(() => this.net.forward(tf.tensor2d(latent.data, [latent.nRows, latent.nCols]), { training: false }));
    const p = softmaxRows(logits);
    logits.dispose();
    return { labels: this.labels.decode(argmaxRows(p, this.classes.length)), probabilities: p, classes: this.classes };
  }

  toJSON(): PredictorState {
    const weights: Record<string, { shape: number[]; values: number[] }> = {};
    for (const v of this.net.namedVariables()) weights[v.name] = { shape: [...v.variable.shape], values: Array.from(v.variable.dataSync()) };
    return { kind: 'environment', classes: [...this.classes], architecture: this.arch, weights };
  }

  dispose(): void {
    tf.dispose(this.net.namedVariables().map((v) => v.variable));
  }
}
