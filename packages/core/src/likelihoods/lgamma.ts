import { tf } from '../tf';
import { detach } from '../nn/variables';

/**
 * Taylor coefficients of ln Γ(2 + t) around t = 0: c₁ = 1 − γ and cₖ = (−1)ᵏ (ζ(k) − 1)/k for k ≥ 2
 * (computed with 40-digit arithmetic, mpmath). For |t| ≤ 0.5 the terms fall by about 4× each; the
 * series is truncated after t¹⁵, where the remainder is below 1e-10.
 */
const LGAMMA2_COEFFS: readonly number[] = [
  0.4227843350984671393934879, 0.3224670334241132182362076, -0.06735230105319809513324605,
  0.02058080842778454787900092, -0.007385551028673985266273097, 0.002890510330741523285752988,
  -0.001192753911703260977113936, 0.0005096695247430424223356548, -0.0002231547584535793797614188,
  0.00009945751278180853371459589, -0.0000449262367381331417002075, 0.0000205072127756706915531665,
  -0.000009439488275268395903987425, 0.000004374866789907487804181793, -0.000002039215753801366236781901,
];

/** ½ ln(2π). */
const HALF_LOG_2PI = 0.9189385332046727;

/** From this argument on the Stirling series is used. */
const STIRLING_FROM = 3;

/** Boolean mask `x > c` built from ops that have (zero) gradient functions, unlike tfjs comparisons. */
function above(x: tf.Tensor, c: number): tf.Tensor {
  return tf.cast(tf.step(tf.sub(x, c)), 'bool');
}

/** ln Γ(2 + t) for |t| ≤ 0.5 by Horner evaluation of the Taylor series (ln Γ(2) = 0, so no constant). */
function lgammaAround2(t: tf.Tensor): tf.Tensor {
  let acc: tf.Tensor = tf.scalar(LGAMMA2_COEFFS[LGAMMA2_COEFFS.length - 1]!);
  for (let k = LGAMMA2_COEFFS.length - 2; k >= 0; k--) acc = tf.add(tf.mul(acc, t), LGAMMA2_COEFFS[k]!);
  return tf.mul(acc, t);
}

/**
 * Stirling series for x ≥ 3: (x − ½)(ln x − 1) + ½ln 2π + 1/(12x) − 1/(360x³) + 1/(1260x⁵) − 1/(1680x⁷)
 * + 1/(1188x⁹); the first omitted term is below 1.1e-8 at x = 3.
 */
function lgammaStirling(x: tf.Tensor): tf.Tensor {
  const inv = tf.reciprocal(x);
  const inv2 = tf.mul(inv, inv);
  let s: tf.Tensor = tf.add(tf.mul(inv2, 1 / 1188), -1 / 1680);
  s = tf.add(tf.mul(s, inv2), 1 / 1260);
  s = tf.add(tf.mul(s, inv2), -1 / 360);
  s = tf.add(tf.mul(s, inv2), 1 / 12);
  const main = tf.add(tf.mul(tf.sub(x, 0.5), tf.sub(tf.log(x), 1)), HALF_LOG_2PI - 0.5);
  return tf.add(main, tf.mul(s, inv));
}

/**
 * Natural log of the gamma function for x > 0, elementwise, composed of differentiable tfjs ops
 * (tfjs has no `lgamma`); its autodiff gradient is the digamma function.
 *
 * Method (float32 throughout, arranged so that no step cancels badly; one Taylor evaluation per element):
 * - x ≥ 3: Stirling series.
 * - otherwise ln Γ(x) = ln Γ(2 + t) + c with the Taylor series of ln Γ(2 + t), |t| ≤ 0.5:
 *   2.5 ≤ x < 3: t = x − 3, c = ln(x − 1);  1.5 ≤ x < 2.5: t = x − 2, c = 0 (full relative precision at the zero x = 2);
 *   0.5 ≤ x < 1.5: t = x − 1, c = −log1p(t) (full relative precision at the zero x = 1);
 *   0 < x < 0.5: t = x, c = −log1p(x) − ln x.
 *   Every t is an exact float32 subtraction.
 * Each branch sees a clamped copy of the input, so unused branches stay finite and cannot poison
 * gradients. Non-positive inputs give NaN.
 */
export function lgamma(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    // Branch masks come from a detached copy and are built with `step` + `cast`: comparison ops have
    // no gradient function in tfjs and would abort backpropagation.
    const xd = detach(xf);
    const ge3 = above(xd, STIRLING_FROM);
    const ge25 = above(xd, 2.5);
    const ge15 = above(xd, 1.5);
    const ge05 = above(xd, 0.5);
    // (scalar-broadcasting `maximum` and `where` are slow on the wasm backend; these forms are not)
    const big = lgammaStirling(tf.add(tf.relu(tf.sub(xf, STIRLING_FROM)), STIRLING_FROM));
    const xl = tf.clipByValue(xf, 1e-30, STIRLING_FROM); // domain of the Taylor branches
    const shift = tf.add(tf.add(tf.step(tf.sub(xd, 0.5)), tf.step(tf.sub(xd, 1.5))), tf.step(tf.sub(xd, 2.5))); // 0, 1, 2 or 3
    const t = tf.clipByValue(tf.sub(xl, shift), -0.5, 0.5);
    const log1pT = tf.log1p(t);
    const corrUpper = tf.log(tf.clipByValue(tf.sub(xl, 1), 1, STIRLING_FROM)); // ln(x − 1) for 2.5 ≤ x < 3
    const corrSmall = tf.sub(tf.neg(log1pT), tf.log(xl)); // −log1p(x) − ln x for x < 0.5
    const corr = tf.where(ge25, corrUpper, tf.where(ge15, tf.zerosLike(t), tf.where(ge05, tf.neg(log1pT), corrSmall)));
    const small = tf.add(lgammaAround2(t), corr);
    const out = tf.where(ge3, big, small);
    return tf.where(above(xd, 0), out, tf.fill(xf.shape, NaN));
  });
}
