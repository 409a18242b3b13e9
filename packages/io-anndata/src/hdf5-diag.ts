// HDF5-DIAG error stacks condensed to one line (used by the reader and its pre-scan worker).

/**
 * One line for an HDF5-DIAG error stack (h5wasm's throwing handler puts the whole stack, 10–100 lines with the
 * library's source paths, in the message): the outermost call's message and the innermost cause, e.g.
 * `unable to synchronously create dataset: component not found`. The full text stays in the error's `cause`.
 */
export function condenseHdf5Error(msg: string): string {
  if (!msg.includes('HDF5-DIAG')) return msg;
  const entries = [...msg.matchAll(/#\d+: .*? in ([\w.]+\(\)): ([^\n]*)/g)].map((m) => m[2].trim());
  const minor = [...msg.matchAll(/minor: ([^\n]*)/g)].map((m) => m[1].trim());
  if (!entries.length) return msg.split('\n')[0];
  const outer = entries[0];
  const inner = entries[entries.length - 1];
  // an I/O failure carries the system's reason (e.g. 'No space left on device') further down the stack
  const sys = /error message = '([^']*)'/.exec(msg)?.[1];
  const detail = sys ?? (inner !== outer ? inner : (minor[minor.length - 1] ?? ''));
  return detail ? `${outer}: ${detail}` : outer;
}
