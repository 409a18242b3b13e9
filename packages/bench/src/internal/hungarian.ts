/**
 * Minimum-cost assignment for a rectangular cost matrix (row-major `nRows × nCols`), as
 * `scipy.optimize.linear_sum_assignment`: every row of the smaller side is matched to a distinct
 * column (or vice versa) minimising the total cost. Shortest augmenting paths with potentials
 * (Jonker–Volgenant style, O(n²m)). Returns matched (row, col) pairs sorted by row.
 */
export function linearSumAssignment(cost: ArrayLike<number>, nRows: number, nCols: number): { rows: Int32Array; cols: Int32Array } {
  const transpose = nRows > nCols;
  const n = transpose ? nCols : nRows; // n ≤ m
  const m = transpose ? nRows : nCols;
  const c = (i: number, j: number): number => (transpose ? cost[j * nCols + i]! : cost[i * nCols + j]!);
  // 1-based arrays; p[j] = row matched to column j (0 = none).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = c(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const pairs: [number, number][] = [];
  for (let j = 1; j <= m; j++) if (p[j] !== 0) pairs.push(transpose ? [j - 1, p[j]! - 1] : [p[j]! - 1, j - 1]);
  pairs.sort((a, b) => a[0] - b[0]);
  return { rows: Int32Array.from(pairs, (q) => q[0]), cols: Int32Array.from(pairs, (q) => q[1]) };
}
