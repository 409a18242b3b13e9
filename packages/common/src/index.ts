/**
 * @invae/common — shared foundations of the invae packages, without dependencies: atomic output of files
 * and folders, and the in-memory matrix types (dense, CSR, CSC). Each idea lives here once, so every
 * package writes its outputs the same way and means the same thing by a matrix.
 * @packageDocumentation
 */
export { VERSION } from './version';
export { asidePathOf, outputOfAsidePath, outputOfTempPath, tempPathBeside, writeFileAtomic, writeFileContentAtomic, writeFolderAtomic, type AtomicOutputOptions, type ExistingFolder } from './atomic-output';
export type { NumericArray, IndexArray, DenseMatrix, SparseBase, CsrMatrix, CscMatrix, SparseMatrix, Matrix } from './matrix';
