/** A matrix arriving in consecutive row blocks, as the dense-array and csr-matrix writers take it. */

/** Rows [start, end) of a matrix. */
export interface Block<M> {
  start: number;
  end: number;
  matrix: M;
}

/**
 * Checked row blocks of one kind (see write/streamed.ts): the first block is already taken (it chose the encoding),
 * `rest` yields the others in row order.
 */
export interface BlockStream<M> {
  readonly stream: true;
  /** [n_rows, n_cols] of the whole matrix. */
  shape: [number, number];
  first: Block<M>;
  rest: Iterator<Block<M>>;
}

/** True for a {@link BlockStream}. */
export function isBlockStream(v: unknown): v is BlockStream<unknown> {
  return typeof v === 'object' && v !== null && (v as BlockStream<unknown>).stream === true;
}

/** The blocks after the first. */
export function* restOf<M>(s: BlockStream<M>): Generator<Block<M>> {
  for (let r = s.rest.next(); !r.done; r = s.rest.next()) yield r.value;
}
