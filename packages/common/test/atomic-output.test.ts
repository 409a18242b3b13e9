import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asidePathOf, outputOfAsidePath, outputOfTempPath, tempPathBeside, writeFileAtomic, writeFileContentAtomic, writeFolderAtomic } from '../src/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invae-common-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const entries = () => fs.readdirSync(dir).sort();

describe('atomic files', () => {
  it('puts the temporary path beside the destination, hidden, with the extension asked for', () => {
    const t = tempPathBeside(path.join(dir, 'out.png'), '.png');
    expect(path.dirname(t)).toBe(dir);
    expect(path.basename(t)).toMatch(/^\.out\.png\.\d+\.[0-9a-f]{12}\.tmp\.png$/);
    expect(outputOfTempPath(t)).toEqual({ output: path.join(dir, 'out.png'), pid: process.pid });
    expect(outputOfTempPath(path.join(dir, 'out.png'))).toBeNull();
    const aside = asidePathOf(path.join(dir, 'model'));
    expect(outputOfAsidePath(aside)).toBe(path.join(dir, 'model'));
    expect(outputOfTempPath(aside)).toBeNull(); // never taken for a temporary file by a clean-up
    expect(outputOfAsidePath(t)).toBeNull();
    expect(tempPathBeside(path.join(dir, 'out.png'))).not.toBe(tempPathBeside(path.join(dir, 'out.png')));
  });

  it('writes, replaces, and on failure leaves the old file and no temporary file', async () => {
    const f = path.join(dir, 'a.txt');
    await writeFileContentAtomic(f, 'one');
    expect(fs.readFileSync(f, 'utf8')).toBe('one');
    await writeFileAtomic(f, (tmp) => fs.writeFileSync(tmp, 'two'));
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    await expect(
      writeFileAtomic(f, (tmp) => {
        fs.writeFileSync(tmp, 'half');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(entries()).toEqual(['a.txt']);
  });

  it('tells a tracker the temporary path and when it is gone', async () => {
    const seen: string[] = [];
    await writeFileContentAtomic(path.join(dir, 'b.txt'), 'x', {
      track: (tmp) => {
        seen.push(`+${path.basename(tmp)}`);
        return () => seen.push(`-${fs.existsSync(tmp)}`);
      },
    });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatch(/^\+\.b\.txt\./);
    expect(seen[1]).toBe('-false');
    fs.rmSync(path.join(dir, 'b.txt'));
  });
});

describe('atomic folders', () => {
  it('creates, replaces whole, or merges into an existing folder; a failure leaves it as it was', async () => {
    const d = path.join(dir, 'model');
    await writeFolderAtomic(d, (tmp) => {
      fs.writeFileSync(path.join(tmp, 'model.json'), '1');
      fs.writeFileSync(path.join(tmp, 'old-only.txt'), 'o');
    });
    expect(fs.readdirSync(d).sort()).toEqual(['model.json', 'old-only.txt']);
    fs.writeFileSync(path.join(d, 'user-notes.txt'), 'mine');

    await writeFolderAtomic(d, (tmp) => fs.writeFileSync(path.join(tmp, 'model.json'), '2'), { existing: 'merge' });
    expect(fs.readdirSync(d).sort()).toEqual(['model.json', 'old-only.txt', 'user-notes.txt']);
    expect(fs.readFileSync(path.join(d, 'model.json'), 'utf8')).toBe('2');

    await expect(
      writeFolderAtomic(d, (tmp) => {
        fs.writeFileSync(path.join(tmp, 'model.json'), '3');
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    expect(fs.readFileSync(path.join(d, 'model.json'), 'utf8')).toBe('2');

    await writeFolderAtomic(d, (tmp) => fs.writeFileSync(path.join(tmp, 'model.json'), '4'), { existing: 'replace' });
    expect(fs.readdirSync(d)).toEqual(['model.json']);
    expect(fs.readFileSync(path.join(d, 'model.json'), 'utf8')).toBe('4');
    expect(entries()).toEqual(['a.txt', 'model']);
  });
});
