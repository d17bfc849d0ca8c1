// The classic libpcap file format: a 24-byte file header, then a 16-byte
// record header before each packet. The magic number gives the byte order
// and the timestamp unit (microseconds or nanoseconds).
import { ByteReader } from './bytes.js';
import { CaptureError } from './errors.js';
import type { Capture, CapturedPacket, PacketToWrite, WritePcapOptions } from './types.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34; // Kuznetzov's patched libpcap: a longer record header
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/** The byte order and unit of a pcap magic read little-endian, or undefined if it is not one. */
export function pcapMagic(leMagic: number): { littleEndian: boolean; nanos: boolean } | undefined {
  switch (leMagic) {
    case PCAP_MAGIC_US: return { littleEndian: true, nanos: false };
    case PCAP_MAGIC_NS: return { littleEndian: true, nanos: true };
    case 0xd4c3b2a1: return { littleEndian: false, nanos: false };
    case 0x4d3cb2a1: return { littleEndian: false, nanos: true };
    default: return undefined;
  }
}

export function readPcap(bytes: Uint8Array): Capture {
  const probe = new ByteReader(bytes, true);
  const leMagic = probe.u32(0, 'pcap magic');
  const magic = pcapMagic(leMagic);
  if (!magic) {
    const swapped = ((leMagic & 0xff) << 24 | (leMagic & 0xff00) << 8 | (leMagic >>> 8) & 0xff00 | leMagic >>> 24) >>> 0;
    if (leMagic === PCAP_MAGIC_MODIFIED || swapped === PCAP_MAGIC_MODIFIED) {
      throw new CaptureError(0, 'modified ("Kuznetzov") pcap format is not supported');
    }
    throw new CaptureError(0, `not a pcap file (magic 0x${leMagic.toString(16).padStart(8, '0')})`);
  }
  const r = new ByteReader(bytes, magic.littleEndian);
  r.need(0, FILE_HEADER, 'pcap file header');
  const major = r.u16(4, 'version');
  const minor = r.u16(6, 'version');
  if (major !== 2) throw new CaptureError(4, `unsupported pcap version ${major}.${minor}`);
  const snapLen = r.u32(16, 'snaplen');
  const network = r.u32(20, 'link type');
  // Bits 0-15: link type; bit 28 set: bits 29-31 are the FCS length in 16-bit words.
  const linkType = network & 0xffff;
  const fcsLen = network & 0x10000000 ? (network >>> 29) * 2 : undefined;

  const packets: CapturedPacket[] = [];
  const unit = magic.nanos ? 1n : 1000n;
  let off = FILE_HEADER;
  while (off < bytes.length) {
    const packet = packets.length;
    if (off + RECORD_HEADER > bytes.length) {
      throw new CaptureError(off, `truncated record header of packet ${packet}`, { packet });
    }
    const sec = r.u32(off, 'timestamp');
    const frac = r.u32(off + 4, 'timestamp');
    const inclLen = r.u32(off + 8, 'captured length');
    const origLen = r.u32(off + 12, 'original length');
    if (inclLen > bytes.length - off - RECORD_HEADER) {
      throw new CaptureError(off + 8, `packet ${packet} claims ${inclLen} bytes, ${bytes.length - off - RECORD_HEADER} left`, { packet });
    }
    const data = r.copy(off + RECORD_HEADER, inclLen, 'packet data');
    packets.push({ data, origLen, tsNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * unit, iface: 0 });
    off += RECORD_HEADER + inclLen;
  }
  return {
    format: 'pcap',
    linkType,
    interfaces: [{
      linkType, snapLen, tsResol: { base: 10, exp: magic.nanos ? 9 : 6 }, tsOffset: 0n, section: 0,
      ...(fcsLen !== undefined ? { fcsLen } : {}),
    }],
    packets,
    skippedBlocks: 0,
  };
}

const MAX_U32 = 0xffffffff;

/**
 * Writes a little-endian pcap file. Timestamps are split into seconds and
 * microseconds (rounded down) or nanoseconds; a packet whose timestamp does
 * not fit (negative, or past 2106) or whose lengths are inconsistent raises
 * a CaptureError naming it.
 */
export function writePcap(packets: Iterable<PacketToWrite>, opts: WritePcapOptions = {}): Uint8Array {
  const list = [...packets];
  const linkType = opts.linkType ?? 1;
  const nanos = opts.nanos ?? false;
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
    throw new CaptureError(20, `link type ${linkType} is not a 16-bit value`);
  }
  let snapLen = opts.snapLen ?? 262144;
  if (!Number.isInteger(snapLen) || snapLen < 0 || snapLen > MAX_U32) {
    throw new CaptureError(16, `snap length ${snapLen} is not a 32-bit value`);
  }
  let size = FILE_HEADER;
  for (const p of list) {
    size += RECORD_HEADER + p.data.length;
    if (p.data.length > snapLen) snapLen = p.data.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, nanos ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, snapLen, true);
  view.setUint32(20, linkType, true);
  let off = FILE_HEADER;
  for (const [i, p] of list.entries()) {
    const ts = p.tsNs ?? 0n;
    const origLen = p.origLen ?? p.data.length;
    const sec = ts / 1_000_000_000n;
    if (ts < 0n || sec > BigInt(MAX_U32)) {
      throw new CaptureError(off, `packet ${i}: timestamp ${ts} ns does not fit a pcap record`, { packet: i });
    }
    if (!Number.isInteger(origLen) || origLen < p.data.length || origLen > MAX_U32) {
      throw new CaptureError(off + 12, `packet ${i}: original length ${origLen} is below the ${p.data.length} captured bytes or not a 32-bit value`, { packet: i });
    }
    const frac = ts % 1_000_000_000n;
    view.setUint32(off, Number(sec), true);
    view.setUint32(off + 4, Number(nanos ? frac : frac / 1000n), true);
    view.setUint32(off + 8, p.data.length, true);
    view.setUint32(off + 12, origLen, true);
    out.set(p.data, off + RECORD_HEADER);
    off += RECORD_HEADER + p.data.length;
  }
  return out;
}
