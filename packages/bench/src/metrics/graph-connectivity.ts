import { encodeCategorical, type Categorical } from '../internal/categories';
import { checkNeighbors, type NeighborsResult } from '../neighbors/neighbors';

/** Disjoint-set forest with path halving and union by size. */
export class UnionFind {
  readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.size = new Int32Array(n).fill(1);
  }
  find(a: number): number {
    const p = this.parent;
    while (p[a] !== a) {
      p[a] = p[p[a]!]!;
      a = p[a]!;
    }
    return a;
  }
  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.size[ra]! < this.size[rb]!) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
  }
}

/**
 * Strongly connected components of a directed graph given as adjacency lists in CSR form
 * (`indptr`, `indices`), by an iterative Tarjan algorithm. Returns the component of every node.
 */
export function stronglyConnectedComponents(n: number, indptr: Int32Array, indices: Int32Array): { count: number; component: Int32Array } {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const component = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const callNode: number[] = [];
  const callEdge: number[] = [];
  let counter = 0;
  let count = 0;
  for (let s = 0; s < n; s++) {
    if (index[s] !== -1) continue;
    callNode.push(s);
    callEdge.push(indptr[s]!);
    index[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = 1;
    while (callNode.length > 0) {
      const v = callNode[callNode.length - 1]!;
      const e = callEdge[callEdge.length - 1]!;
      if (e < indptr[v + 1]!) {
        callEdge[callEdge.length - 1] = e + 1;
        const w = indices[e]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          callNode.push(w);
          callEdge.push(indptr[w]!);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
      } else {
        callNode.pop();
        callEdge.pop();
        if (callNode.length > 0) {
          const u = callNode[callNode.length - 1]!;
          low[u] = Math.min(low[u]!, low[v]!);
        }
        if (low[v] === index[v]) {
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            component[w] = count;
          } while (w !== v);
          count++;
        }
      }
    }
  }
  return { count, component };
}

/**
 * scib-metrics `graph_connectivity`: for every label, the kNN graph (15 neighbours; directed edges
 * i → its neighbours) restricted to that label's cells is split into strongly connected components;
 * the label scores (size of its largest component) / (its number of cells). The result is the mean
 * over labels. Every listed neighbour is an edge, also one at distance 0 (a duplicate cell: scipy's
 * csgraph treats stored zeros as edges). Higher is better (batch correction).
 */
export function graphConnectivity(nn: NeighborsResult, labels: Categorical): number {
  const enc = encodeCategorical(labels, 'labels', nn.nObs);
  checkNeighbors(nn, enc.codes.length);
  const k = nn.nNeighbors;
  const local = new Int32Array(nn.nObs);
  let total = 0;
  for (let l = 0; l < enc.counts.length; l++) {
    const members: number[] = [];
    for (let i = 0; i < nn.nObs; i++) if (enc.codes[i] === l) {
      local[i] = members.length;
      members.push(i);
    }
    const m = members.length;
    const indptr = new Int32Array(m + 1);
    const idx: number[] = [];
    for (let a = 0; a < m; a++) {
      const i = members[a]!;
      for (let j = 0; j < k; j++) {
        const nb = nn.indices[i * k + j]!;
        if (nb !== i && enc.codes[nb] === l ) idx.push(local[nb]!);
      }
      indptr[a + 1] = idx.length;
    }
    const { count, component } = stronglyConnectedComponents(m, indptr, Int32Array.from(idx));
    const sizes = new Int32Array(count);
    for (let a = 0; a < m; a++) sizes[component[a]!]!++;
    total += Math.max(...sizes) / m;
  }
  return total / enc.counts.length;
}
