// The Wilcoxon baseline of the DE tests is bench's (used by the docs' after-integration tutorial too).
export { benjaminiHochberg, wilcoxonCalls, wilcoxonRankSum } from '../../src/index';
