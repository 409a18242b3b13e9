import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Temporary folders for one test file: call at the file's top level; `make()` returns a new empty
 * folder under one root (`prefix`-…, created on first use), and the root is removed after the
 * file's tests.
 */
export function scratchDirs(prefix: string): { readonly root: string; make(): string } {
  let root: string | null = null;
  let n = 0;
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });
  const rootDir = (): string => (root ??= fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), `${prefix}-`)));
  return {
    get root() {
      return rootDir();
    },
    make() {
      const dir = path.join(rootDir(), String(n++));
      fs.mkdirSync(dir);
      return dir;
    },
  };
}
