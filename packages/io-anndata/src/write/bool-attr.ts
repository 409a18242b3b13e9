/**
 * Boolean attributes as h5py writes numpy booleans (an HDF5 enum of int8 with members FALSE=0 / TRUE=1), which
 * anndata 0.8 requires for a categorical's `ordered` flag. h5wasm can create no enum type (its attribute API
 * knows strings, integers, floats, references and compounds, and the wasm module exports no H5T/H5A
 * functions), so the writer creates `ordered` as an int8 scalar and, once the file is closed, this module
 * rewrites those attribute messages in place: the 12-byte int8 datatype becomes the 33-byte enum datatype, the
 * 21 bytes coming out of a placeholder attribute ({@link BOOL_PAD}) the writer adds right after it (HDF5 sizes
 * object headers to fit, leaving no free space) or of free (NIL) space, and the header checksum is recomputed. Every
 * step is checked (signature, message walk, the existing checksum); an attribute that cannot be rewritten
 * safely stays int8 (anndata >= 0.9 reads that too).
 */
import fs from 'node:fs';

/** Name of the placeholder attribute whose space the enum datatype takes (removed by the rewrite). */
export const BOOL_PAD = '__invae_bool_pad';

/** The int8 datatype message h5wasm writes (class 0 version 1, signed, size 1, offset 0, precision 8). */
const INT8 = [0x10, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00];
/** Enum datatype message version 3 (names not padded): 2 members, size 1, base int8, FALSE=0, TRUE=1. */
const ENUM_BOOL = Buffer.from([
  0x38, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, ...INT8,
  ...Buffer.from('FALSE\0TRUE\0', 'latin1'),
  0x00, 0x01,
]);

/** Bob Jenkins' lookup3 hashlittle, the checksum of HDF5 metadata. */
export function lookup3(k: Uint8Array, initval = 0): number {
  let a = (0xdeadbeef + k.length + initval) >>> 0;
  let b = a;
  let c = a;
  const rot = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  let i = 0;
  let len = k.length;
  const w = (o: number) => (k[o] | (k[o + 1] << 8) | (k[o + 2] << 16) | (k[o + 3] << 24)) >>> 0;
  while (len > 12) {
    a = (a + w(i)) >>> 0;
    b = (b + w(i + 4)) >>> 0;
    c = (c + w(i + 8)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rot(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rot(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rot(b, 4)) >>> 0; b = (b + a) >>> 0;
    i += 12;
    len -= 12;
  }
  if (len === 0) return c;
  const tail = new Uint8Array(12);
  tail.set(k.subarray(i, i + len));
  const t = (o: number) => (tail[o] | (tail[o + 1] << 8) | (tail[o + 2] << 16) | (tail[o + 3] << 24)) >>> 0;
  a = (a + t(0)) >>> 0;
  b = (b + t(4)) >>> 0;
  c = (c + t(8)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rot(b, 24)) >>> 0;
  return c;
}

interface Chunk {
  /** Offset of the signature. */
  start: number;
  /** Offset of the first message. */
  msgs: number;
  /** Offset of the checksum (end of the messages and gap). */
  end: number;
  /** Messages carry a 2-byte creation order. */
  order: boolean;
}

/**
 * Parses a v2 object header chunk (OHDR) or continuation chunk (OCHK) at `at`, or null. An OCHK does not
 * record its length (its header's continuation message does): its end is where the message walk meets a
 * matching checksum. `order`: whether messages carry a creation order (for OCHK, from the caller's guess).
 */
function chunkAt(buf: Buffer, at: number, order = false): Chunk | null {
  const sig = buf.toString('latin1', at, at + 4);
  if (sig === 'OCHK') {
    const hdr = order ? 6 : 4;
    let p = at + 4;
    while (p + 4 <= buf.length) {
      for (let gap = 0; gap < hdr && p + gap + 4 <= buf.length; gap++) {
        if (lookup3(buf.subarray(at, p + gap)) === buf.readUInt32LE(p + gap)) return { start: at, msgs: at + 4, end: p + gap, order };
      }
      if (p + 3 > buf.length) return null;
      p += hdr + buf.readUInt16LE(p + 1);
    }
    return null;
  }
  if (sig === 'OHDR') {
    if (buf[at + 4] !== 2) return null;
    const flags = buf[at + 5];
    let p = at + 6;
    if (flags & 0x20) p += 16;
    if (flags & 0x10) p += 4;
    const sz = 1 << (flags & 3);
    if (p + sz > buf.length) return null;
    const size = buf.readUIntLE(p, sz);
    p += sz;
    if (p + size + 4 > buf.length) return null;
    return { start: at, msgs: p, end: p + size, order: (flags & 0x04) !== 0 };
  }
  return null;
}

/** Message offsets of a chunk, or null when the walk does not end exactly at the chunk's end (gap allowed). */
function messages(buf: Buffer, c: Chunk): { at: number; type: number; size: number }[] | null {
  const hdr = c.order ? 6 : 4;
  const out: { at: number; type: number; size: number }[] = [];
  let p = c.msgs;
  while (c.end - p >= hdr) {
    const size = buf.readUInt16LE(p + 1);
    out.push({ at: p, type: buf[p], size });
    p += hdr + size;
  }
  return p <= c.end ? out : null;
}

/**
 * Rewrites every int8 scalar attribute named `name` (as written by the io-anndata writer) in `file` to the
 * HDF5 enum bool h5py writes. The file is scanned in windows and patched in place (object headers only), so
 * memory stays bounded whatever the file size. Returns how many were rewritten and how many stayed int8.
 */
export function int8AttrsToBool(file: string, name = 'ordered'): { rewritten: number; kept: number } {
  const nm = Buffer.from(`${name}\0`, 'latin1');
  // attribute message body v3: version 3, flags 0, name size, datatype size 12, dataspace size 4, encoding 0
  const body = Buffer.concat([Buffer.from([0x03, 0x00, nm.length, 0x00, 12, 0x00, 0x04, 0x00, 0x00]), nm, Buffer.from(INT8), Buffer.from([0x02, 0x00, 0x00, 0x00])]);
  return patchEach(file, body, (buf, at) => rewriteAt(buf, at, body.length));
}

/**
 * Rewrites the datatype of every int8 dataset the writer marked with a {@link BOOL_PAD} attribute (written
 * right after creating it, e.g. the masks of the nullable encodings) to the HDF5 enum bool h5py writes for
 * numpy booleans: the datatype message grows by 21 bytes taken from the placeholder attribute, which becomes
 * free (NIL) space. The data bytes (0/1) stay as they are. Returns how many were rewritten and how many stayed int8.
 */
export function int8DatasetsToBool(file: string): { rewritten: number; kept: number } {
  const nm = Buffer.from(`${BOOL_PAD}\0`, 'latin1');
  return patchEach(file, nm, (buf, at) => rewriteDatasetTypeAt(buf, at));
}

/** Finds every occurrence of `needle` in `file` (in windows) and lets `rewrite` patch the bytes around it. */
function patchEach(file: string, needle: Buffer, rewrite: (buf: Buffer, at: number) => [number, number] | null): { rewritten: number; kept: number } {
  const fd = fs.openSync(file, 'r+');
  let rewritten = 0;
  let kept = 0;
  try {
    const size = fs.fstatSync(fd).size;
    const WIN = 8 * 1024 * 1024;
    const hits: number[] = [];
    const win = Buffer.alloc(WIN + needle.length);
    for (let pos = 0; pos < size; pos += WIN) {
      const n = fs.readSync(fd, win, 0, Math.min(win.length, size - pos), pos);
      const view = win.subarray(0, n);
      for (let i = view.indexOf(needle); i >= 0 && i < WIN; i = view.indexOf(needle, i + 1)) hits.push(pos + i);
    }
    const AROUND = 64 * 1024; // object headers are small; the enclosing one lies within this distance
    for (const hit of hits) {
      const from = Math.max(0, hit - AROUND);
      const len = Math.min(size - from, hit - from + AROUND);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, from);
      const range = rewrite(buf, hit - from);
      if (!range) {
        kept++;
        continue;
      }
      fs.writeSync(fd, buf, range[0], range[1] - range[0], from + range[0]);
      rewritten++;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { rewritten, kept };
}

/** The verified object header chunk enclosing `at` and its messages, or null. */
function enclosingChunk(buf: Buffer, at: number): { c: Chunk; msgs: { at: number; type: number; size: number }[] } | null {
  const starts: number[] = [];
  for (const sig of ['OHDR', 'OCHK']) {
    for (let s = buf.lastIndexOf(sig, at, 'latin1'), k = 0; s >= 0 && k < 64; s = s > 0 ? buf.lastIndexOf(sig, s - 1, 'latin1') : -1, k++) starts.push(s);
  }
  starts.sort((x, y) => y - x);
  for (const s of starts) {
    const c = chunkAt(buf, s);
    if (!c || at >= c.end || c.end + 4 > buf.length) continue;
    if (lookup3(buf.subarray(c.start, c.end)) !== buf.readUInt32LE(c.end)) continue;
    const msgs = messages(buf, c);
    return msgs ? { c, msgs } : null;
  }
  return null;
}

/**
 * Rewrites the int8 datatype message of the dataset whose header holds the placeholder attribute named at
 * `nameAt` into the enum bool; returns the byte range of `buf` it changed, or null when that is not safe.
 */
function rewriteDatasetTypeAt(buf: Buffer, nameAt: number): [number, number] | null {
  const found = enclosingChunk(buf, nameAt);
  if (!found) return null;
  const { c, msgs } = found;
  const hdr = c.order ? 6 : 4;
  // the placeholder: an attribute message (0x0c) whose name (at body offset 9) is the one found
  const pad = msgs.find((m) => m.type === 0x0c && m.at + hdr + 9 === nameAt);
  const dt = msgs.find((m) => m.type === 0x03 && m.size === INT8.length && buf.subarray(m.at + hdr, m.at + hdr + INT8.length).equals(Buffer.from(INT8)));
  const grow = ENUM_BOOL.length - INT8.length;
  if (!pad || !dt || dt.at > pad.at || pad.size < grow) return null;
  // new bytes: [datatype header][enum bool][messages between][NIL over the rest of the placeholder]
  const head = Buffer.from(buf.subarray(dt.at, dt.at + hdr));
  head.writeUInt16LE(ENUM_BOOL.length, 1);
  const between = buf.subarray(dt.at + hdr + dt.size, pad.at);
  const padEnd = pad.at + hdr + pad.size;
  const gap = c.end - padEnd < hdr ? c.end - padEnd : 0;
  const nilHead = Buffer.alloc(hdr);
  nilHead.writeUInt16LE(pad.size - grow + gap, 1);
  const region = Buffer.concat([head, ENUM_BOOL, between, nilHead, Buffer.alloc(pad.size - grow + gap)]);
  if (dt.at + region.length !== padEnd + gap) return null;
  region.copy(buf, dt.at);
  buf.writeUInt32LE(lookup3(buf.subarray(c.start, c.end)), c.end);
  return [c.start, c.end + 4];
}

/**
 * Rewrites the attribute whose message body starts at `bodyAt` (int8 → enum bool); returns the byte range of
 * `buf` it changed, or null when that is not safe.
 */
function rewriteAt(buf: Buffer, bodyAt: number, bodyLen: number): [number, number] | null {
  // the enclosing object header: the nearest OHDR before it whose checksum verifies and whose walk meets it
  const starts: number[] = [];
  for (const sig of ['OHDR', 'OCHK']) {
    for (let s = buf.lastIndexOf(sig, bodyAt, 'latin1'), k = 0; s >= 0 && k < 64; s = s > 0 ? buf.lastIndexOf(sig, s - 1, 'latin1') : -1, k++) starts.push(s);
  }
  starts.sort((x, y) => y - x);
  for (const s of starts) {
    const c = chunkAt(buf, s);
    if (!c || bodyAt >= c.end || c.end + 4 > buf.length) continue;
    if (lookup3(buf.subarray(c.start, c.end)) !== buf.readUInt32LE(c.end)) continue;
    const msgs = messages(buf, c);
    if (!msgs) return null;
    const hdr = c.order ? 6 : 4;
    const attr = msgs.find((m) => m.at + hdr === bodyAt && m.type === 0x0c && m.size === bodyLen + 1);
    if (!attr) return null;
    const grow = ENUM_BOOL.length - INT8.length;
    const pad = Buffer.from(`${BOOL_PAD}\0`, 'latin1');
    const isPad = (m: { at: number; type: number }) => m.type === 0x0c && buf.subarray(m.at + hdr + 9, m.at + hdr + 9 + pad.length).equals(pad);
    const nil = msgs.find((m) => (m.type === 0 || isPad(m)) && m.at > attr.at && m.size >= grow);
    if (!nil) return null;
    // new chunk bytes: [.. attr header][attr body with the enum type][messages between][NIL shrunk by `grow`]
    const value = buf[bodyAt + bodyLen];
    const newBody = Buffer.from(buf.subarray(bodyAt, bodyAt + bodyLen + 1));
    newBody[4] = ENUM_BOOL.length; // datatype size
    const nameEnd = 9 + buf[bodyAt + 2];
    const rebuilt = Buffer.concat([newBody.subarray(0, nameEnd), ENUM_BOOL, Buffer.from([0x02, 0x00, 0x00, 0x00]), Buffer.from([value ? 1 : 0])]);
    const head = Buffer.from(buf.subarray(attr.at, attr.at + hdr));
    head.writeUInt16LE(rebuilt.length, 1);
    const between = buf.subarray(attr.at + hdr + attr.size, nil.at);
    // a NIL message (type 0) over what is left, taking in the chunk's end gap if it follows (HDF5 allows a gap
    // only in chunks without NIL messages)
    const nilEnd = nil.at + hdr + nil.size;
    const gap = c.end - nilEnd < hdr ? c.end - nilEnd : 0;
    const nilHead = Buffer.alloc(hdr);
    nilHead.writeUInt16LE(nil.size - grow + gap, 1);
    const region = Buffer.concat([head, rebuilt, between, nilHead, Buffer.alloc(nil.size - grow + gap)]);
    const regionEnd = nilEnd + gap;
    if (attr.at + region.length !== regionEnd) return null;
    region.copy(buf, attr.at);
    buf.writeUInt32LE(lookup3(buf.subarray(c.start, c.end)), c.end);
    return [c.start, c.end + 4];
  }
  return null;
}
