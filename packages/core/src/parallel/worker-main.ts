import { tf } from '../tf';
import { initEngine } from '../engine';
import { InvaeError } from '../errors';
import { disposeBatch, minibatchFromRows } from '../data/gather';
import { Adam } from '../optim/adam';
import type { InvaeModel } from '../module/invae';
import { gradientStep } from './gradient-step';
import { readVariables, splitLike, writeVariables } from './flat';
import { loadWorkerModule } from './recipe';
import type { FromReplica, ReplicaInit, ToReplica } from './protocol';

/** The side of a worker thread's message channel `runReplicaWorker` talks through (its `parentPort`). */
export interface ReplicaPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: ToReplica) => void): unknown;
}

function errorPayload(e: unknown): Extract<FromReplica, { type: 'error' }>['error'] {
  const err = e as { name?: string; message?: string; code?: string; hint?: string; stack?: string };
  return { name: err?.name ?? 'Error', message: String(err?.message ?? e), code: err?.code, hint: err?.hint, stack: err?.stack };
}

async function buildReplica(init: ReplicaInit): Promise<InvaeModel> {
  const mod = await loadWorkerModule(init.recipe.module);
  const factory = (mod[init.recipe.export] ?? (mod.default as Record<string, unknown> | undefined)?.[init.recipe.export]) as ((args: unknown) => unknown) | undefined;
  if (typeof factory !== 'function') {
    throw new InvaeError('WORKER_REPLICA', `The replica module ${init.recipe.module} has no exported function '${init.recipe.export}'.`);
  }
  const model = (await factory(init.recipe.args)) as InvaeModel;
  const vars = model?.namedVariables?.();
  if (!vars) throw new InvaeError('WORKER_REPLICA', `The replica factory '${init.recipe.export}' did not return a model.`);
  const same =
    vars.length === init.names.length &&
    vars.every((v, i) => v.name === init.names[i] && v.trainable === init.trainable[i] && v.variable.shape.join(',') === init.shapes[i]!.join(','));
  if (!same) {
    const got = vars.map((v) => `${v.name}[${v.variable.shape.join(',')}]`).join(', ');
    model.dispose?.();
    throw new InvaeError('WORKER_REPLICA', `The worker's replica has different variables than the trained model (got ${got.slice(0, 300)}).`, {
      hint: 'the replica recipe must build the same architecture as the model being trained',
    });
  }
  return model;
}

/**
 * The body of a training worker (data-parallel training, see `trainModel`'s `workers` option):
 * starts its own engine, builds a replica of the model, takes the main thread's weights, then
 * answers step / apply / stats / load messages until it is terminated. Internal: started by the
 * worker pool through @invae/core's entry module.
 * @internal
 */
export async function runReplicaWorker(port: ReplicaPort, init: ReplicaInit): Promise<void> {
  const post = (m: FromReplica) => port.postMessage(m);
  let model: InvaeModel | null = null;
  try {
    await initEngine({ backend: init.engine, report: null });
    model = await buildReplica(init);
  } catch (e) {
    post({ type: 'error', error: errorPayload(e) });
    return;
  }
  const all = model.namedVariables().map((v) => v.variable);
  const trainable = model.trainableVariables;
  const buffers = model.namedVariables().filter((v) => !v.trainable).map((v) => v.variable);
  const input = new Float32Array(init.input);
  const output = new Float32Array(init.output);
  const shared = new Float32Array(init.shared);
  writeVariables(all, shared);
  const optimizer = new Adam(trainable, { learningRate: init.learningRate, weightDecay: init.weightDecay });
  const m = model;
  port.on('message', (msg: ToReplica) => {
    try {
      switch (msg.type) {
        case 'step': {
          m.warmUp(msg.iteration, msg.warmUpIterations);
          const n = msg.rows;
          const xLen = n * init.nCols;
          const invLen = n * init.invCols;
          const batch = minibatchFromRows(
            Int32Array.from({ length: n }, (_, i) => i),
            { values: input.subarray(0, xLen), nCols: init.nCols },
            init.invCols ? { nRows: n, nCols: init.invCols, data: input.subarray(xLen, xLen + invLen) } : null,
            init.spurCols ? { nRows: n, nCols: init.spurCols, data: input.subarray(xLen + invLen, xLen + invLen + n * init.spurCols) } : null,
          );
          try {
            const r = gradientStep(m, trainable, batch, msg.seed, init.datasetSize, output);
            post({ type: 'stepped', loss: r.loss, terms: r.terms });
          } finally {
            disposeBatch(batch);
          }
          break;
        }
        case 'apply': {
          optimizer.learningRate = msg.learningRate;
          const grads = splitLike(trainable, shared);
          try {
            optimizer.applyGradients(grads);
          } finally {
            tf.dispose(grads);
          }
          post({ type: 'applied' });
          break;
        }
        case 'stats':
          readVariables(buffers, output);
          post({ type: 'stats' });
          break;
        case 'load':
          writeVariables(all, shared);
          post({ type: 'loaded' });
          break;
      }
    } catch (e) {
      post({ type: 'error', error: errorPayload(e) });
    }
  });
  post({ type: 'ready' });
}
