import { Rng } from '@invae/core';
import type { NeighborGraph } from '../neighbors/connectivities';
import { lanczosLargestMagnitude, lanczosSource, lanczosWasmModule, type UniformSource } from '../internal/linalg';
import type { Embedding } from '../internal/matrix';

/**
 * Symmetric diffusion transition matrix of a connectivity graph (scanpy's `_compute_transitions`, as
 * scib-metrics uses it): density normalisation K = Q⁻¹ W Q⁻¹ with q the degrees, then
 * T = Z⁻¹ K Z⁻¹ with z = sqrt(row sums of K).
 */
export function diffusionTransitions(w: NeighborGraph): NeighborGraph {
  const n = w.n;
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let p = w.indptr[i]!; p < w.indptr[i + 1]!; p++) q[w.indices[p]!] += w.data[p]!;
  const kData = new Float64Array(w.data.length);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let p = w.indptr[i]!; p < w.indptr[i + 1]!; p++) {
    const v = w.data[p]! / (q[i]! * q[w.indices[p]!]!);
    kData[p] = v;
    z[w.indices[p]!] += v;
  }
  for (let i = 0; i < n; i++) z[i] = Math.sqrt(z[i]!);
  const tData = new Float64Array(w.data.length);
  for (let i = 0; i < n; i++) for (let p = w.indptr[i]!; p < w.indptr[i + 1]!; p++) tData[p] = kData[p]! / (z[i]! * z[w.indices[p]!]!);
  return { n, indptr: w.indptr, indices: w.indices, data: tData };
}

/**
 * Multiscale diffusion-map embedding (scib-metrics `diffusion_nn` before its neighbour search): the
 * `nComps` eigenpairs of largest magnitude of the symmetric transition matrix (Lanczos, see
 * {@link lanczosLargestMagnitude}, residual tolerance 1e-4 and at most 3·nComps + 50 basis vectors;
 * scib-metrics uses ARPACK to machine precision), eigenvalues shifted by 1e-8 and each
 * eigenvector scaled by λ/(1 − λ) (by 1 when λ is exactly 1 in float32, as scib-metrics' float32 check).
 * Eigenvector signs are arbitrary; distances in the embedding do not depend on them.
 */
export function diffusionEmbedding(w: NeighborGraph, nComps: number, seed = 0): Embedding {
  return diffusionEmbeddingWith(w, nComps, new Rng(seed));
}

/**
 * {@link diffusionEmbedding} with the Lanczos start vectors drawn from `rng` (uniforms).
 */
export function diffusionEmbeddingWith(w: NeighborGraph, nComps: number, rng: UniformSource): Embedding {
  return embedTransitions(diffusionTransitions(w), nComps, rng, lanczosLargestMagnitude, lanczosWasmModule());
}

/**
 * The embedding from the transition matrix, with the eigen-solver (and its compiled SIMD loops, or
 * null) passed in: it refers to nothing outside its parameters, so the kBET helper thread can run it
 * by its source text (see {@link diffusionSource}).
 */
function embedTransitions(t: NeighborGraph, nComps: number, rng: UniformSource, solve: typeof lanczosLargestMagnitude, wasm: object | null): Embedding {
  const shift = 1e-8;
  const n = t.n;
  const comps = Math.min(nComps, n - 1);
  const { indptr, indices, data: tData } = t;
  const op = {
    n,
    apply(x: Float64Array, y: Float64Array) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        const end = indptr[i + 1]!;
        for (let p = indptr[i]!; p < end; p++) s += tData[p]! * x[indices[p]!]!;
        y[i] = s;
      }
    },
  };
  // The Krylov basis is capped at 3·comps + 50 vectors: the pairs that matter most (eigenvalues near
  // 1, scaled by λ/(1 − λ)) converge first; the small-|λ| tail barely moves distances.
  const { values, vectors } = solve(op, comps, rng, 1e-4, 3 * comps + 50, wasm);
  const scale = Float64Array.from(values, (v) => {
    const e = Math.fround(Math.fround(v) + shift);
    return e === 1 ? 1 : e / (1 - e);
  });
  const data = new Float64Array(n * comps);
  for (let i = 0; i < n; i++) for (let c = 0; c < comps; c++) data[i * comps + c] = vectors[i * comps + c]! * scale[c]!;
  return { data, nRows: n, nCols: comps };
}

/**
 * Source text of the diffusion embedding and everything it calls (each as `const name = (source);`;
 * only functions that refer to nothing outside their own module's list, so that the text also runs
 * where module imports are rewritten, as under test runners), ending with
 * `const diffusion = { embed(graph, nComps, rng) };`, for evaluation in the kBET helper thread.
 */
export function diffusionSource(): string {
  const own = [diffusionTransitions, embedTransitions].map((f) => `const ${f.name} = (${f.toString()});`).join('\n');
  return `${lanczosSource()}\n${own}\nconst diffusion = { embed: (g, c, r) => ${embedTransitions.name}(${diffusionTransitions.name}(g), c, r, ${lanczosLargestMagnitude.name}, lanczosWasm) };\n`;
}
