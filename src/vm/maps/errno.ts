/**
 * The errors of map operations: kernel errno numbers and `MapError`, what
 * the user side throws.
 */
import { TsbpfError } from '../../errors.js';

/** The errno numbers maps return (asm-generic, as on x86-64 and arm64). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
  EOPNOTSUPP: 95,
  ENOTSUPP: 524,
} as const;
export type ErrnoName = keyof typeof Errno;

/** `ENOENT` for 2 (`E<n>` for numbers outside the table). */
export function errnoName(errno: number): string {
  for (const [name, n] of Object.entries(Errno)) if (n === errno) return name;
  return `E${errno}`;
}

/**
 * A map operation the kernel would refuse: `code` is `EMAP`, `errno` the
 * number and `errnoName` its name (also in `where.errno`), with the map and
 * the operation in `where`.
 */
export class MapError extends TsbpfError {
  readonly errno: number;
  readonly errnoName: string;
  constructor(errno: ErrnoName | number, message: string, where: Record<string, unknown> = {}) {
    const name = typeof errno === 'number' ? errnoName(errno) : errno;
    super('EMAP', message, { errno: name, ...where });
    this.errno = typeof errno === 'number' ? errno : Errno[errno];
    this.errnoName = name;
  }
}
