/**
 * Progress bars for long transfers (cli-progress), only on a terminal and only past a size. A pass
 * runs several transfers at once: each takes a lane (its own bar, drawn with the others by one
 * MultiBar); a finished bar stays on screen at its last value, as a single bar did.
 */
import cliProgress from 'cli-progress';

const MIN_BYTES = 8 * 1024 * 1024;

export interface Progress {
  start(label: string, total: number): { add(n: number): void } | undefined;
  stop(): void;
  /** A Progress of its own for one of several transfers at once. */
  lane?(): Progress;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY) return undefined;
  let multi: cliProgress.MultiBar | null = null;
  let running = 0;
  const lane = (): Progress => {
    let bar: cliProgress.SingleBar | null = null;
    return {
      start(label, total) {
        if (total < MIN_BYTES) return undefined;
        multi ??= new cliProgress.MultiBar({ format: '{label} [{bar}] {percentage}% {value}/{total} bytes', stream, hideCursor: true }, cliProgress.Presets.shades_classic);
        const b = multi.create(total, 0, { label });
        bar = b;
        running += 1;
        return { add: (n) => b.increment(n) };
      },
      stop() {
        if (!bar) return;
        bar.stop();
        bar = null;
        running -= 1;
        // The last bar running: draw them all a final time and let the terminal go.
        if (running === 0) {
          multi?.stop();
          multi = null;
        }
      },
      lane,
    };
  };
  return lane();
}
