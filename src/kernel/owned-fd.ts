import type { TsbpfError } from '../errors.js';
import { closeFd } from './syscall.js';

/**
 * A kernel object held by a file descriptor this process owns. Close it with
 * `close()` (closing twice does nothing), or declare it with `using`.
 */
export abstract class OwnedFd {
  #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** What reading `fd` throws once the object has been closed. */
  protected abstract closedError(): TsbpfError;

  /** The file descriptor; throws once the object has been closed. */
  get fd(): number {
    if (this.#fd < 0) throw this.closedError();
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Closes the file descriptor. Closing twice does nothing. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
