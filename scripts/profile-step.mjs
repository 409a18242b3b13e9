#!/usr/bin/env node
// Per-kernel profile of training steps (issue config: 2000 genes, latent 20+5, hidden 128, 2 layers,
// batch 256, BatchNorm, dropout 0.1): trains one warm-up epoch, then profiles one more epoch of
// `--steps` minibatches with tf.profile and prints, per kernel name and input shapes, the time per
// step (the engine's own timing of each kernel; nested custom-gradient scopes are left out so that
// nothing is counted twice), as a table on stderr and JSON on stdout.
// Usage: node scripts/profile-step.mjs [--model FinVAE|NFinVAE] [--steps 10] [--library 1000,5000] [--top 30]
import { parseArgs } from 'node:util';
import { Invae, initEngine, simulate, tf } from '@invae/core';
import { decoderNbTimes, stepPath } from '@invae/core/internal';
import { registerBuiltinPriors } from '@invae/priors';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'FinVAE' },
    steps: { type: 'string', default: '10' },
    library: { type: 'string' },
    top: { type: 'string', default: '30' },
    backend: { type: 'string' },
  },
});
const model = values.model.toLowerCase() === 'nfinvae' ? 'NFinVAE' : 'FinVAE';
const steps = Number(values.steps);
const batchSize = 256;
const librarySize = values.library ? values.library.split(',').map(Number) : undefined;
const engine = await initEngine({ backend: values.backend, report: null });
registerBuiltinPriors();

const nCells = batchSize * steps;
const sim = simulate({ nCells, nGenes: 2000, nBatches: 4, nCellTypes: 6, nDiseases: 2, latentDimInv: 20, latentDimSpur: 5, seed: 0, ...(librarySize ? { librarySize } : {}) });
const data = { counts: sim.counts, geneNames: sim.geneNames, obs: sim.obs };
const w = Invae.setup(
  data,
  {
    model,
    invariant: { categorical: ['cell_type', 'disease'] },
    spurious: { categorical: ['batch'] },
    options: { latentDimInv: 20, latentDimSpur: 5, hiddenDim: 128, nLayers: 2, batchNorm: true, dropoutRate: 0.1, seed: 0 },
  },
  { warn: () => {} },
);
const train = () => w.train(data, { epochs: 1, batchSize, seed: 0, workers: 1 });
await train(); // warm-up: the engine's code tiers up over the first steps
for (const k of Object.keys(decoderNbTimes)) decoderNbTimes[k] = 0;
const t0 = performance.now();
await train();
const msPerStep = (performance.now() - t0) / steps;
// the fused NB decoder op (default step path): its phases, wall ms per step (outside tf.profile's kernels)
const fusedDecoderMs = Object.fromEntries(Object.entries(decoderNbTimes).map(([k, v]) => [k, +(v / steps).toFixed(2)]));
const info = await tf.profile(train);
w.dispose();

const byKey = new Map();
let kernelMs = 0;
let kernels = 0;
for (const k of info.kernels) {
  if (k.name === 'unnamed scope') continue; // a custom-gradient scope: its kernels are listed themselves
  const ms = await k.kernelTimeMs;
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s ?? ''}]`).join('')}`;
  const e = byKey.get(key) ?? { kernel: k.name, inputShapes: k.inputShapes, msPerStep: 0, callsPerStep: 0 };
  e.msPerStep += ms / steps;
  e.callsPerStep += 1 / steps;
  byKey.set(key, e);
  kernelMs += ms;
  kernels++;
}
const rows = [...byKey.values()].sort((a, b) => b.msPerStep - a.msPerStep);
const round = (v) => +v.toFixed(2);
const out = {
  benchmark: 'profile-step',
  model,
  engine: engine.engine,
  steps,
  batchSize,
  density: sim.counts.kind === 'csr' ? round(sim.counts.indptr[sim.counts.shape[0]] / (sim.counts.shape[0] * sim.counts.shape[1])) : null,
  stepPath: stepPath(),
  msPerStepUnprofiled: round(msPerStep),
  fusedDecoderMsPerStep: stepPath() === 'fused' ? fusedDecoderMs : null,
  kernelMsPerStep: round(kernelMs / steps),
  kernelsPerStep: Math.round(kernels / steps),
  kernels: rows.map((r) => ({ ...r, msPerStep: round(r.msPerStep), callsPerStep: round(r.callsPerStep) })),
};
const top = Number(values.top);
const lines = [`${model} (${out.stepPath} path): ${out.msPerStepUnprofiled} ms/step unprofiled; ${out.kernelMsPerStep} ms/step in ${out.kernelsPerStep} kernels (profiled)`];
if (out.fusedDecoderMsPerStep) {
  const f = out.fusedDecoderMsPerStep;
  const total = Object.values(f).reduce((a, b) => a + b, 0);
  lines.push(`fused NB decoder op (unprofiled pass): ${total.toFixed(2)} ms/step wall — ${Object.entries(f).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
for (const r of rows.slice(0, top)) lines.push(`${r.msPerStep.toFixed(2).padStart(7)} ms ${r.callsPerStep.toFixed(0).padStart(4)}×  ${r.kernel} ${r.inputShapes.map((s) => `[${s ?? ''}]`).join('')}`);
process.stderr.write(lines.join('\n') + '\n');
console.log(JSON.stringify(out, null, 2));
