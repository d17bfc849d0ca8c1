// Packet captures: pcap and pcapng in, pcap out. Bytes only, no I/O, so the
// same code runs in Node and in a browser.
import { CaptureError } from './errors.js';
import { readPcap } from './pcap.js';
import { PCAPNG_SHB, readPcapng } from './pcapng.js';
import type { Capture } from './types.js';

export { CaptureError } from './errors.js';
export { readPcap, writePcap } from './pcap.js';
export { readPcapng } from './pcapng.js';
export { LINKTYPE_ETHERNET, LINKTYPE_RAW } from './types.js';
export type { Capture, CapturedPacket, CaptureInterface, PacketToWrite, WritePcapOptions } from './types.js';

/** Reads a pcap (either byte order, µs or ns) or pcapng file, chosen by its first four bytes. */
export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < 4) throw new CaptureError(0, `${bytes.length} bytes is too short for a capture file`);
  const magic = (bytes[0]! | bytes[1]! << 8 | bytes[2]! << 16 | bytes[3]! << 24) >>> 0;
  if (magic === PCAPNG_SHB) return readPcapng(bytes);
  return readPcap(bytes); // which also names an unknown or unsupported magic
}
