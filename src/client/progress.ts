/** Progress bars for long transfers (cli-progress), only on a terminal and only past a size. */
import cliProgress from 'cli-progress';

const MIN_BYTES = 8 * 1024 * 1024;

export interface Progress {
  start(label: string, total: number): { add(n: number): void } | undefined;
  stop(): void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY) return undefined;
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(label, total) {
      if (total < MIN_BYTES) return undefined;
      bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total} bytes`, stream, hideCursor: true }, cliProgress.Presets.shades_classic);
      bar.start(total, 0);
      const b = bar;
      return { add: (n) => b.increment(n) };
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
