/** A bandwidth limit shared by every transfer of a client (bytes per second; 0 = none). */
export class Throttle {
  private allowance: number;
  private last = Date.now();

  constructor(readonly bytesPerSec: number) {
    this.allowance = bytesPerSec;
  }

  /** Waits until `n` more bytes may pass. */
  async take(n: number): Promise<void> {
    if (this.bytesPerSec <= 0) return;
    for (;;) {
      const now = Date.now();
      this.allowance = Math.min(this.bytesPerSec, this.allowance + ((now - this.last) / 1000) * this.bytesPerSec);
      this.last = now;
      if (this.allowance >= n || this.allowance >= this.bytesPerSec) {
        this.allowance -= n;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((n - this.allowance) / this.bytesPerSec) * 1000)));
    }
  }
}
