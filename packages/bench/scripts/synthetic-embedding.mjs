// Synthetic embeddings for timing the metric suite (bench:metrics, bench:perf): Gaussian blobs per
// label with a per-batch shift, as an "integrated" version (shift × 0.1) and an "unintegrated" one.

/**
 * @param {{ Rng: new (seed: number) => { int(n: number): number }, fillNormal: Function }} core  @invae/core's Rng and fillNormal
 * @returns {{ labels: string[], batches: string[], integrated: object, unintegrated: object }} row matrices n × d
 */
export function syntheticEmbedding(core, n, d, nLabels, nBatches, seed) {
  const rng = new core.Rng(seed);
  const centres = core.fillNormal(rng, nLabels * d, 0, 3);
  const shifts = core.fillNormal(rng, nBatches * d, 0, 2);
  const noise = core.fillNormal(rng, n * d, 0, 1);
  const labels = new Array(n);
  const batches = new Array(n);
  const integrated = new Float32Array(n * d);
  const unintegrated = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const l = rng.int(nLabels);
    const b = rng.int(nBatches);
    labels[i] = `type${l}`;
    batches[i] = `batch${b}`;
    for (let j = 0; j < d; j++) {
      const base = centres[l * d + j] + noise[i * d + j];
      integrated[i * d + j] = base + 0.1 * shifts[b * d + j];
      unintegrated[i * d + j] = base + shifts[b * d + j];
    }
  }
  return { labels, batches, integrated: { data: integrated, nRows: n, nCols: d }, unintegrated: { data: unintegrated, nRows: n, nCols: d } };
}
