import type { TrainHistory } from '@invae/core';
import { lossCurveSvg } from './loss-curve-svg';
import { pngSize, svgToPng } from './png';

/** A loss-curve picture: SVG text, PNG bytes and the size the PNG is shown at (CSS pixels). */
export interface LossPlot {
  svg: string;
  png: Uint8Array;
  width: number;
  height: number;
}

/**
 * The training (and validation) loss per epoch of `history` as SVG and PNG (2× zoom), the epoch
 * whose weights early stopping restored marked; null when no epoch completed.
 */
export function lossPlot(history: TrainHistory, title: string): LossPlot | null {
  if (!history.epochs.length) return null;
  const svg = lossCurveSvg(history.epochs, { title, markEpoch: history.restoredEpoch ?? null, markLabel: 'restored epoch' });
  const png = svgToPng(svg);
  const size = pngSize(png);
  return { svg, png, width: size.width / 2, height: size.height / 2 };
}
