/** One captured frame. */
export interface CapturedPacket {
  /** The captured bytes (a copy; at most the interface's snap length). */
  data: Uint8Array;
  /** The frame's length on the wire; `data.length` when it was not cut. */
  origLen: number;
  /** Nanoseconds since the Unix epoch; 0n for pcapng simple packet blocks, which carry none. */
  tsNs: bigint;
  /** Index into `Capture.interfaces` (always 0 for pcap). */
  iface: number;
}

/** A capture interface: pcap has exactly one, pcapng one per interface description block. */
export interface CaptureInterface {
  /** LINKTYPE_* value (1 = Ethernet). */
  linkType: number;
  /** Snap length; 0 means unlimited (pcapng). */
  snapLen: number;
  /** Timestamp unit as a power: 10^-exp seconds, or 2^-exp when `base` is 2. */
  tsResol: { base: 2 | 10; exp: number };
  /** Seconds added to every timestamp (pcapng if_tsoffset), 0 if none. */
  tsOffset: bigint;
  /** Interface name (pcapng if_name). */
  name?: string;
  /** Bytes of frame check sequence at the end of each frame, when the file says. */
  fcsLen?: number;
  /** The pcapng section this interface belongs to (0 for pcap). */
  section: number;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  /**
   * The link type of interface 0, or -1 when the capture describes no
   * interface (an empty pcapng file). Only Ethernet (1) frames are what the
   * program runners expect; the reader reports others and callers decide.
   */
  linkType: number;
  interfaces: CaptureInterface[];
  packets: CapturedPacket[];
  /** pcapng blocks that were not read: obsolete packet blocks, name resolution, statistics, custom... */
  skippedBlocks: number;
}

/** What `writePcap` takes: timestamp and original length are optional. */
export interface PacketToWrite {
  data: Uint8Array;
  origLen?: number;
  tsNs?: bigint;
}

export interface WritePcapOptions {
  /** LINKTYPE_* value for the file header; default 1 (Ethernet). */
  linkType?: number;
  /** Write nanosecond timestamps (magic 0xa1b23c4d); default microseconds. */
  nanos?: boolean;
  /** Snap length in the file header; default 262144, raised to the largest packet. */
  snapLen?: number;
}

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
