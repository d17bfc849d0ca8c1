// The pcapng format: a sequence of blocks (type, total length, body, total
// length again). Each section starts with a section header block whose
// byte-order magic sets the byte order of the section; interface
// description blocks number the section's interfaces from 0; enhanced and
// simple packet blocks carry the frames. Every other block is skipped.
import { ByteReader, toNanos } from './bytes.js';
import { CaptureError } from './errors.js';
import type { Capture, CaptureInterface, CapturedPacket } from './types.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;

const OPT_END = 0;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_FCSLEN = 13;
const OPT_IF_TSOFFSET = 14;

const utf8 = new TextDecoder('utf-8');

interface Section {
  index: number;
  /** Index in Capture.interfaces of the section's interface 0. */
  firstIface: number;
  ifaceCount: number;
}

export function readPcapng(bytes: Uint8Array): Capture {
  const r = new ByteReader(bytes, true);
  const interfaces: CaptureInterface[] = [];
  const packets: CapturedPacket[] = [];
  let skippedBlocks = 0;
  let section: Section | undefined;
  let sections = 0;
  let off = 0;
  let blockIndex = 0;

  while (off < bytes.length) {
    const block = blockIndex++;
    const fail = (at: number, why: string): never => {
      throw new CaptureError(at, `block ${block}: ${why}`, { block });
    };
    if (bytes.length - off < 12) fail(off, `truncated block header (${bytes.length - off} bytes left)`);
    const type = r.u32(off, 'block type');
    if (type === PCAPNG_SHB) {
      // The byte order is only known after reading the magic inside the body.
      const bom = r.u32(off + 8, 'byte-order magic');
      if (bom === BYTE_ORDER_MAGIC) r.littleEndian = true;
      else if (bom === 0x4d3c2b1a) r.littleEndian = false;
      else fail(off + 8, `bad byte-order magic 0x${bom.toString(16)}`);
      section = { index: sections++, firstIface: interfaces.length, ifaceCount: 0 };
    } else if (!section) {
      fail(off, 'a pcapng file must start with a section header block');
    }
    const sec = section!;
    const len = r.u32(off + 4, 'block length');
    if (len < 12 || len % 4 !== 0) fail(off + 4, `bad block length ${len}`);
    if (len > bytes.length - off) fail(off + 4, `block length ${len} runs past the end (${bytes.length - off} bytes left)`);
    const trailer = r.u32(off + len - 4, 'trailing block length');
    if (trailer !== len) fail(off + len - 4, `trailing block length ${trailer} differs from ${len}`);
    const body = off + 8;
    const bodyLen = len - 12;

    switch (type) {
      case PCAPNG_SHB: {
        if (bodyLen < 16) fail(off, `section header body of ${bodyLen} bytes (at least 16)`);
        const major = r.u16(body + 4, 'version');
        if (major !== 1) fail(body + 4, `unsupported pcapng version ${major}.${r.u16(body + 6, 'version')}`);
        break;
      }
      case BLOCK_IDB: {
        if (bodyLen < 8) fail(off, `interface description body of ${bodyLen} bytes (at least 8)`);
        const iface: CaptureInterface = {
          linkType: r.u16(body, 'link type'),
          snapLen: r.u32(body + 4, 'snaplen'),
          tsResol: { base: 10, exp: 6 },
          tsOffset: 0n,
          section: sec.index,
        };
        readOptions(r, body + 8, body + bodyLen, fail, (code, at, size) => {
          if (code === OPT_IF_TSRESOL) {
            if (size !== 1) fail(at, `if_tsresol of ${size} bytes`);
            const v = r.u8(at, 'if_tsresol');
            iface.tsResol = v & 0x80 ? { base: 2, exp: v & 0x7f } : { base: 10, exp: v };
          } else if (code === OPT_IF_TSOFFSET) {
            if (size !== 8) fail(at, `if_tsoffset of ${size} bytes`);
            iface.tsOffset = r.i64(at, 'if_tsoffset');
          } else if (code === OPT_IF_NAME) {
            iface.name = utf8.decode(bytes.subarray(at, at + size));
          } else if (code === OPT_IF_FCSLEN) {
            if (size !== 1) fail(at, `if_fcslen of ${size} bytes`);
            iface.fcsLen = r.u8(at, 'if_fcslen');
          }
        });
        interfaces.push(iface);
        sec.ifaceCount++;
        break;
      }
      case BLOCK_EPB: {
        if (bodyLen < 20) fail(off, `enhanced packet body of ${bodyLen} bytes (at least 20)`);
        const id = r.u32(body, 'interface id');
        if (id >= sec.ifaceCount) fail(body, `interface ${id} is not described (section has ${sec.ifaceCount})`);
        const iface = interfaces[sec.firstIface + id]!;
        const ts = r.u32pair(body + 4, 'timestamp');
        const capLen = r.u32(body + 12, 'captured length');
        const origLen = r.u32(body + 16, 'original length');
        if (capLen > bodyLen - 20) fail(body + 12, `captured length ${capLen} exceeds the block (${bodyLen - 20} bytes)`);
        packets.push({
          data: r.copy(body + 20, capLen, 'packet data'),
          origLen,
          tsNs: timestamp(ts, iface),
          iface: sec.firstIface + id,
        });
        break;
      }
      case BLOCK_SPB: {
        if (bodyLen < 4) fail(off, `simple packet body of ${bodyLen} bytes (at least 4)`);
        if (sec.ifaceCount === 0) fail(off, 'simple packet block before any interface description');
        const iface = interfaces[sec.firstIface]!;
        const origLen = r.u32(body, 'original length');
        let capLen = Math.min(origLen, bodyLen - 4);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        packets.push({ data: r.copy(body + 4, capLen, 'packet data'), origLen, tsNs: 0n, iface: sec.firstIface });
        break;
      }
      default:
        // Obsolete packet blocks (2), name resolution (4), interface
        // statistics (5), decryption secrets, custom and unknown blocks.
        skippedBlocks++;
    }
    off += len;
  }
  if (!section) throw new CaptureError(0, 'empty pcapng file');
  return {
    format: 'pcapng',
    linkType: interfaces[0]?.linkType ?? -1,
    interfaces,
    packets,
    skippedBlocks,
  };
}

function timestamp(ts: bigint, iface: CaptureInterface): bigint {
  return toNanos(ts, iface.tsResol.base, iface.tsResol.exp) + iface.tsOffset * 1_000_000_000n;
}

/** Calls `each(code, valueOffset, valueSize)` for every option in [start, end). */
function readOptions(
  r: ByteReader,
  start: number,
  end: number,
  fail: (at: number, why: string) => never,
  each: (code: number, at: number, size: number) => void,
): void {
  let at = start;
  while (at < end) {
    if (end - at < 4) fail(at, 'truncated option header');
    const code = r.u16(at, 'option code');
    const size = r.u16(at + 2, 'option length');
    if (code === OPT_END) return;
    const padded = (size + 3) & ~3;
    if (padded > end - at - 4) fail(at + 2, `option ${code} of ${size} bytes runs past its block`);
    each(code, at + 4, size);
    at += 4 + padded;
  }
}
