import * as tf from '@tensorflow/tfjs';

/**
 * The TensorFlow.js namespace invae uses (the full `@tensorflow/tfjs`, so that gradients are
 * registered). Re-exported so that sibling packages and plugins share one engine instance.
 */
export { tf };
