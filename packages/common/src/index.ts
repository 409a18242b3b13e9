/**
 * @invae/common — shared foundations of the invae packages, without dependencies: atomic output of files
 * and folders. Each idea lives here once, so every package writes its outputs the same way.
 * @packageDocumentation
 */
export { VERSION } from './version';
export { asidePathOf, outputOfAsidePath, outputOfTempPath, tempPathBeside, writeFileAtomic, writeFileContentAtomic, writeFolderAtomic, type AtomicOutputOptions, type ExistingFolder } from './atomic-output';
