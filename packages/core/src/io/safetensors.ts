import { writeFileContentAtomic } from '@invae/common';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SafetensorsFormatError } from '../module/errors';

/** Element types invae reads and writes in safetensors files. */
export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'I64' | 'U8' | 'BOOL';

/** Typed array for each supported dtype (`I64` is read as `BigInt64Array`). */
export type SafetensorsData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** One named tensor of a safetensors file. */
export interface SafetensorsTensor {
  /** Element type as written in the header. */
  readonly dtype: SafetensorsDtype;
  /** Shape (empty for a scalar). */
  readonly shape: readonly number[];
  /** Values in row-major order (a copy, safe to keep). */
  readonly data: SafetensorsData;
}

/** Contents of a safetensors file: tensors by name plus the optional `__metadata__` string map. */
export interface SafetensorsContents {
  /** Tensors by name, in header order. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** `__metadata__` entries (string → string), empty when absent. */
  readonly metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1, BOOL: 1 };

/** Largest header accepted (100 MB, as the reference implementation). */
const MAX_HEADER = 100 * 1024 * 1024;

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function view(dtype: SafetensorsDtype, bytes: Uint8Array): SafetensorsData {
  // copy into a fresh aligned buffer (little-endian hosts only; Node on x86/arm is little-endian)
  const buf = bytes.slice().buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F64':
      return new Float64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'I64':
      return new BigInt64Array(buf);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf);
  }
}

/** One tensor's entry in a safetensors header: where its bytes lie in the data section. */
export interface SafetensorsEntry {
  /** Element type. */
  readonly dtype: SafetensorsDtype;
  /** Shape (empty for a scalar). */
  readonly shape: readonly number[];
  /** Byte range `[begin, end)` within the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** A parsed and validated safetensors header (no tensor data read). */
export interface SafetensorsHeader {
  /** Entries by name, in header order. */
  readonly entries: Map<string, SafetensorsEntry>;
  /** `__metadata__` entries (string → string), empty when absent. */
  readonly metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  readonly dataStart: number;
  /** Bytes of the data section. */
  readonly dataLength: number;
}

function failer(source: string) {
  return (msg: string, hint?: string): never => {
    throw new SafetensorsFormatError(source, msg, { hint: hint ?? 'the file is not a valid safetensors file; re-export it (e.g. with safetensors.torch.save_file)' });
  };
}

/**
 * The header length a file's first 8 bytes declare, checked against the 100 MB limit and the file's
 * size (so that nothing is allocated for a length the file cannot hold).
 */
function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  const fail = failer(source);
  if (fileSize < 8) fail(`file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds the 100 MB limit`);
  const headerLen = Number(n);
  if (8 + headerLen > fileSize) fail(`header length ${headerLen} runs past the end of the ${fileSize}-byte file`);
  return headerLen;
}

/**
 * Parses and validates a safetensors header (the JSON after the 8-byte length) for a data section of
 * `dataLength` bytes: dtypes, shapes (safe element counts), offsets within the data section, sizes
 * that match the shapes, no overlaps.
 */
function parseHeader(json: Uint8Array, dataStart: number, dataLength: number, source: string): SafetensorsHeader {
  const fail = failer(source);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header JSON is not an object');
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') fail(`entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`, `supported dtypes: ${Object.keys(BYTES).join(', ')}`);
    }
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    const [begin, end] = off as [number, number];
    if (end < begin || end > dataLength) fail(`tensor '${name}' data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section`);
    const expected = product(shape) * BYTES[dtype];
    if (end - begin !== expected) fail(`tensor '${name}' has ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${expected}`);
    spans.push([begin, end, name]);
    entries.set(name, { dtype, shape: [...shape], dataOffsets: [begin, end] });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) fail(`tensors '${spans[i - 1]![2]}' and '${spans[i]![2]}' overlap in the data section`);
  }
  return { entries, metadata, dataStart, dataLength };
}

/** Tensors of a validated header, copied out of `data` (the data section). */
function tensorsOf(header: SafetensorsHeader, data: Uint8Array): SafetensorsContents {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, e] of header.entries) tensors.set(name, { dtype: e.dtype, shape: [...e.shape], data: view(e.dtype, data.subarray(e.dataOffsets[0], e.dataOffsets[1])) });
  return { tensors, metadata: header.metadata };
}

/**
 * Parses a safetensors buffer: 8-byte little-endian header length N, N bytes of JSON header
 * (`name → {dtype, shape, data_offsets: [begin, end]}` plus optional `__metadata__`), then the raw
 * little-endian data. Offsets, sizes, dtypes and overlaps are validated.
 * @throws SafetensorsFormatError on any malformed content (naming `source`).
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const headerLen = headerLength(bytes.subarray(0, 8), bytes.byteLength, source);
  const dataStart = 8 + headerLen;
  const header = parseHeader(bytes.subarray(8, dataStart), dataStart, bytes.byteLength - dataStart, source);
  return tensorsOf(header, bytes.subarray(dataStart));
}

/** An open safetensors file whose header has been read and validated; the data is read on demand. */
export interface SafetensorsFile {
  /** The validated header. */
  readonly header: SafetensorsHeader;
  /** Reads the data section (its size is known from the file's size) and returns the tensors. */
  readTensors(): Promise<SafetensorsContents>;
  /** Closes the file. */
  close(): Promise<void>;
}

async function readExactly(fh: fsp.FileHandle, length: number, position: number, source: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new SafetensorsFormatError(source, `file ended after ${position + done} bytes, ${position + length} expected (was it truncated while being read?)`);
    done += bytesRead;
  }
  return buf;
}

/**
 * Opens a safetensors file and reads only its header: the file's size is taken first (fstat; it must
 * be a regular file), the declared header length is checked against the 100 MB limit and the size,
 * and every tensor's offsets against the data section, so a malformed or endless file (a device,
 * `/dev/zero`) is refused without reading it. Call `readTensors()` for the data, then `close()`.
 * @throws SafetensorsFormatError when malformed or not a regular file.
 */
export async function openSafetensors(file: string): Promise<SafetensorsFile> {
  const fh = await fsp.open(file, 'r');
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new SafetensorsFormatError(file, 'is not a regular file', { hint: 'pass a safetensors file (a device, pipe or directory cannot be read as one)' });
    const size = stat.size;
    const headerLen = headerLength(size >= 8 ? await readExactly(fh, 8, 0, file) : new Uint8Array(8), size, file);
    const dataStart = 8 + headerLen;
    const header = parseHeader(await readExactly(fh, headerLen, 8, file), dataStart, size - dataStart, file);
    return {
      header,
      readTensors: async () => tensorsOf(header, await readExactly(fh, header.dataLength, dataStart, file)),
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Reads and parses a safetensors file (size-bounded, see {@link openSafetensors}). @throws SafetensorsFormatError when malformed. */
export async function readSafetensors(file: string): Promise<SafetensorsContents> {
  const f = await openSafetensors(file);
  try {
    return await f.readTensors();
  } finally {
    await f.close();
  }
}

function dtypeOf(data: SafetensorsData, declared?: SafetensorsDtype): SafetensorsDtype {
  if (declared) return declared;
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U8';
}

/** A tensor to write: `dtype` defaults from the typed array (Float32Array → F32, …). */
export interface SafetensorsInput {
  /** Shape (row-major). */
  readonly shape: readonly number[];
  /** Values. */
  readonly data: SafetensorsData;
  /** Overrides the dtype inferred from `data` (only `BOOL` for a Uint8Array makes sense). */
  readonly dtype?: SafetensorsDtype;
}

/**
 * Serialises tensors (in the map's order) and optional string metadata to safetensors bytes.
 * @throws SafetensorsFormatError when a shape does not match its data length.
 */
export function serializeSafetensors(tensors: ReadonlyMap<string, SafetensorsInput>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = { ...metadata };
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new SafetensorsFormatError('<output>', "a tensor cannot be named '__metadata__'");
    const dtype = dtypeOf(t.data, t.dtype);
    const n = product(t.shape);
    if (n !== t.data.length) {
      throw new SafetensorsFormatError('<output>', `tensor '${name}' has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${n}`);
    }
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + raw.byteLength] };
    parts.push(raw);
    offset += raw.byteLength;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data section starts 8-byte aligned
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file atomically (temporary file in the same folder, then rename).
 */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, SafetensorsInput>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileContentAtomic(file, serializeSafetensors(tensors, metadata));
}
