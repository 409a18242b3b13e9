/**
 * @invae/core — the tensor model core of invae on TensorFlow.js.
 * @packageDocumentation
 */
export { VERSION } from './version';
export { InvaeError, EngineUnavailableError, InvalidOptionError } from './errors';
export {
  ENGINE_ORDER,
  initEngine,
  currentEngine,
  describeEngine,
  parseEngineRequest,
  type EngineName,
  type EngineRequest,
  type EngineInfo,
  type EngineAttempt,
  type EngineOptions,
  type ModuleLoader,
} from './engine';
export { tf } from './tf';
export * from './public-model';
export * from './public-module';
export * from './public-data';
export * from './public-train';
export * from './parallel/index';
