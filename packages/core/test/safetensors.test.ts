import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgePython, needsPython, scratchDirs } from '../../../test-support/index';
import { SafetensorsFormatError, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, type SafetensorsInput } from '../src/index';

const scratch = scratchDirs('invae-st');

function sample(): Map<string, SafetensorsInput> {
  return new Map<string, SafetensorsInput>([
    ['a.weight', { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 4, 5e-8, -6e30]) }],
    ['b', { shape: [3], data: new Float64Array([0.1, 0.2, Math.PI]) }],
    ['counts', { shape: [2, 2], data: new Int32Array([1, -1, 2 ** 30, 0]) }],
    ['step', { shape: [], data: new BigInt64Array([123456789012n]) }],
    ['mask', { shape: [4], data: new Uint8Array([1, 0, 1, 1]), dtype: 'BOOL' }],
    ['empty', { shape: [0, 5], data: new Float32Array(0) }],
  ]);
}

function header(json: string, data = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips every supported dtype, scalar and empty tensors, and metadata', () => {
    const bytes = serializeSafetensors(sample(), { format: 'pt', note: 'ü' });
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt', note: 'ü' });
    expect([...back.tensors.keys()]).toEqual([...sample().keys()]);
    for (const [name, t] of sample()) {
      const r = back.tensors.get(name)!;
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
    expect(back.tensors.get('mask')!.dtype).toBe('BOOL');
    expect(back.tensors.get('step')!.dtype).toBe('I64');
    // data section starts 8-byte aligned
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
  });

  it('writes atomically', async () => {
    const dir = scratch.make();
    const file = path.join(dir, 'w.safetensors');
    await writeSafetensors(file, sample());
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
    const back = await readSafetensors(file);
    expect(Array.from(back.tensors.get('a.weight')!.data as Float32Array)).toEqual(Array.from(sample().get('a.weight')!.data as Float32Array));
  });

  needsPython('numpy').it('is readable by an independent parser (Debian python + numpy)', async () => {
    const dir = scratch.make();
    const file = path.join(dir, 'w.safetensors');
    await writeSafetensors(file, sample());
    const script = [
      'import json,struct,sys,numpy as np',
      'b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; h=json.loads(b[8:8+n]); d=b[8+n:]',
      'e=h["a.weight"]; a=np.frombuffer(d[e["data_offsets"][0]:e["data_offsets"][1]],dtype="<f4").reshape(e["shape"])',
      'e=h["b"]; c=np.frombuffer(d[e["data_offsets"][0]:e["data_offsets"][1]],dtype="<f8")',
      'print(json.dumps([a.tolist(), c.tolist()]))',
    ].join('\n');
    const out = JSON.parse(execFileSync(judgePython, ['-c', script, file], { encoding: 'utf8' })) as [number[][], number[]];
    expect(out[0]).toEqual([
      [1, -2, 3.5],
      [4, Math.fround(5e-8), Math.fround(-6e30)],
    ]);
    expect(out[1]).toEqual([0.1, 0.2, Math.PI]);
  });

  it('rejects malformed input with SafetensorsFormatError naming the source', async () => {
    const bad = (bytes: Uint8Array, pattern: RegExp) => {
      let err: unknown;
      try {
        parseSafetensors(bytes, 'x.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SafetensorsFormatError);
      expect((err as Error).message).toMatch(/^x\.safetensors: /);
      expect((err as Error).message).toMatch(pattern);
      expect((err as SafetensorsFormatError).code).toBe('SAFETENSORS_FORMAT');
    };
    bad(new Uint8Array(4), /shorter than the 8-byte header/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    bad(huge, /exceeds the 100 MB limit/);
    const past = new Uint8Array(16);
    new DataView(past.buffer).setBigUint64(0, 100n, true);
    bad(past, /runs past the end/);
    bad(header('{not json'), /not valid UTF-8 JSON/);
    bad(header('[1,2]'), /not an object/);
    bad(header('{"t":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', new Uint8Array(2)), /unsupported dtype "F16"/);
    bad(header('{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', new Uint8Array(4)), /invalid shape/);
    bad(header('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', new Uint8Array(4)), /outside the 4-byte data section/);
    bad(header('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', new Uint8Array(4)), /needs 8/);
    bad(header('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"u":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', new Uint8Array(8)), /overlap/);
    bad(header('{"__metadata__":{"a":1}}'), /__metadata__\.a is not a string/);
    const dir = scratch.make();
    const f = path.join(dir, 'broken.safetensors');
    writeFileSync(f, new Uint8Array(3));
    await expect(readSafetensors(f)).rejects.toThrow(/broken\.safetensors: file is 3 bytes/);
  });

  it('refuses to write a tensor whose data does not fit its shape', () => {
    expect(() => serializeSafetensors(new Map([['t', { shape: [2, 2], data: new Float32Array(3) }]]))).toThrow(SafetensorsFormatError);
  });
});
