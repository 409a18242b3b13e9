export { simulate, type SimulatedData } from './simulate';
export { resolveSimulateOptions, type SimulateOptions, type ResolvedSimulateOptions, type SimulateLikelihood } from './options';
