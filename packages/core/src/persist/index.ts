export { saveModelDir, readModelDir, readModelDirFile, MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelManifest, type ModelDirContents, type LoadedModelDir, type ReadModelDirOptions } from './model-dir';
export { ModelFormatError } from './errors';
