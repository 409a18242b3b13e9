import { tf } from '../tf';

/** One model parameter or buffer under a stable, PyTorch-state_dict-style name. */
export interface NamedVariable {
  /** Stable dotted name, e.g. `shared_encoder.fc.0.weight`. */
  readonly name: string;
  /** The variable holding the value. */
  readonly variable: tf.Variable;
  /** Whether an optimiser updates it (false for BatchNorm running statistics). */
  readonly trainable: boolean;
  /**
   * Added by query mapping (the input columns of categories first seen in a query, see
   * `MLP.addQueryInputs`): the only variables trained while the reference weights are frozen.
   */
  readonly query?: boolean;
}

/** Something that owns named variables (layers, networks, priors, models). */
export interface HasVariables {
  /** All variables with names relative to this object. */
  namedVariables(): NamedVariable[];
}

/** Prefixes every name of `owner`'s variables with `prefix.` (no dot when `prefix` is empty). */
export function prefixed(prefix: string, owner: HasVariables): NamedVariable[] {
  return owner.namedVariables().map((v) => ({ ...v, name: prefix ? `${prefix}.${v.name}` : v.name }));
}

/**
 * Stream of integer seeds derived from one base seed, so that every parameter of a model gets its
 * own reproducible random stream. With `undefined` every draw is unseeded.
 */
export class SeedStream {
  private counter = 0;
  constructor(private readonly base: number | undefined) {}
  /** The next seed, or `undefined` when the stream is unseeded. */
  next(): number | undefined {
    if (this.base === undefined) return undefined;
    this.counter += 1;
    return (this.base * 1_000_003 + this.counter * 7919) % 2_147_483_647;
  }
}

/**
 * Detaches a tensor from the gradient tape: same value, zero gradient (PyTorch's `.detach()`).
 */
export const detach: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
