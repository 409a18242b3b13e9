import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Temporary folders for one test file: call at the file's top level; `make()` returns a new empty
 * folder (under one root named `prefix`-…), and the whole root is removed after the file's tests.
 */
export function scratchDirs(prefix: string): { readonly root: string; make(): string } {
  const root = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), `${prefix}-`));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  let n = 0;
  return {
    root,
    make() {
      const dir = path.join(root, String(n++));
      fs.mkdirSync(dir);
      return dir;
    },
  };
}
