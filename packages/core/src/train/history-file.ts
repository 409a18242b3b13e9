import type { EpochReport } from './options';
import type { TrainHistory } from './trainer';

/** Identifies a training history file (`history.json` of a model directory). */
export const HISTORY_FORMAT = 'invae-history';
/** Version of the history file written by this release; readers accept this and older. */
export const HISTORY_FORMAT_VERSION = 1;

/** A number as JSON: non-finite values (a diverged loss) become null. */
const num = (v: number): number | null => (Number.isFinite(v) ? v : null);
const back = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const numbers = (r: Record<string, number>): Record<string, number | null> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, num(v)]));
const numbersBack = (r: unknown): Record<string, number> =>
  r && typeof r === 'object' ? Object.fromEntries(Object.entries(r as Record<string, unknown>).map(([k, v]) => [k, back(v)])) : {};

/**
 * The per-epoch training history as the JSON text of a model directory's `history.json`: per epoch
 * the training loss and its terms, the validation loss and its terms (when cells were held out), the
 * learning rate, β, tc_β, seconds and cells/s; and why and when training ended.
 */
export function historyToJSON(history: TrainHistory): string {
  const doc = {
    format: HISTORY_FORMAT,
    formatVersion: HISTORY_FORMAT_VERSION,
    stoppedBy: history.stoppedBy,
    ...(history.diverged ? { diverged: history.diverged } : {}),
    restoredEpoch: history.restoredEpoch ?? null,
    validationCells: history.validationCells ?? 0,
    seconds: num(history.seconds),
    workers: history.workers,
    epochs: history.epochs.map((e) => ({
      epoch: e.epoch,
      epochs: e.epochs,
      loss: num(e.loss),
      terms: numbers(e.terms),
      ...(e.validationLoss !== undefined ? { validationLoss: num(e.validationLoss), validationTerms: numbers(e.validationTerms ?? {}) } : {}),
      learningRate: e.learningRate,
      beta: e.beta,
      tcBeta: e.tcBeta,
      seconds: num(e.seconds),
      cellsPerSecond: num(e.cellsPerSecond),
    })),
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

/**
 * Parses {@link historyToJSON} output.
 * @throws Error with a message naming what is wrong (the caller adds where the file is).
 */
export function historyFromJSON(text: string): TrainHistory {
  const doc = JSON.parse(text) as Record<string, unknown>;
  if (doc?.format !== HISTORY_FORMAT) throw new Error(`not an invae training history (format ${JSON.stringify(doc?.format)})`);
  const version = doc.formatVersion;
  if (!Number.isInteger(version) || (version as number) < 1 || (version as number) > HISTORY_FORMAT_VERSION) {
    throw new Error(`history format version ${String(version)} is not supported (supports ≤ ${HISTORY_FORMAT_VERSION})`);
  }
  if (!Array.isArray(doc.epochs)) throw new Error('the history lacks its epochs');
  const stoppedBy = doc.stoppedBy;
  if (stoppedBy !== 'epochs' && stoppedBy !== 'early-stopping' && stoppedBy !== 'aborted' && stoppedBy !== 'diverged') throw new Error(`unknown stoppedBy ${JSON.stringify(stoppedBy)}`);
  const epochs: EpochReport[] = (doc.epochs as Record<string, unknown>[]).map((e, i) => {
    if (!e || typeof e !== 'object' || !Number.isInteger(e.epoch)) throw new Error(`epoch entry ${i} lacks its epoch number`);
    const r: EpochReport = {
      epoch: e.epoch as number,
      epochs: back(e.epochs),
      loss: back(e.loss),
      terms: numbersBack(e.terms),
      seconds: back(e.seconds),
      cellsPerSecond: back(e.cellsPerSecond),
      learningRate: back(e.learningRate),
      beta: back(e.beta),
      tcBeta: back(e.tcBeta),
    };
    if ('validationLoss' in e) {
      r.validationLoss = back(e.validationLoss);
      r.validationTerms = numbersBack(e.validationTerms);
    }
    return r;
  });
  return {
    epochs,
    stoppedBy,
    seconds: back(doc.seconds),
    workers: Number.isInteger(doc.workers) ? (doc.workers as number) : 1,
    validationCells: Number.isInteger(doc.validationCells) ? (doc.validationCells as number) : 0,
    restoredEpoch: Number.isInteger(doc.restoredEpoch) ? (doc.restoredEpoch as number) : null,
    ...(stoppedBy === 'diverged' && doc.diverged && typeof doc.diverged === 'object' ? { diverged: doc.diverged as NonNullable<TrainHistory['diverged']> } : {}),
  };
}
