/**
 * V8 settings of the gateway's process, applied before the rest of the program is loaded (the
 * first import of src/main.ts; functions compile when first called, so they all see them).
 *
 * --no-lazy-feedback-allocation: V8 gives a function its feedback vector (what its property loads
 * and calls learn) only after several calls by default, and until then every property access takes
 * the generic lookup. A gateway runs many of its paths rarely: a WebDAV GET of a big file after an
 * upload ran almost all of its JavaScript in that state (perf: LoadIC_NoFeedback among the top
 * entries). With vectors from the first call, the main thread's CPU from accept to a big GET's
 * headers (median of 12 paired rounds, bench/get-first-byte.ts with perf task-clock, load 9) went
 * from 1.5 to 1.1 ms in one run and from 4.7 to 1.3 ms in another; the same build against itself
 * read 1.7 and 1.5 (the second of a pair has an edge). RSS and small-PUT CPU showed no change
 * beyond noise. Set here rather than on the command line so `npm start` and the benches run with it.
 *
 * --always-sparkplug: a function gets baseline machine code (Sparkplug: one pass over its bytecode,
 * no optimisation) at its first call, instead of running in the interpreter until it has been
 * called often enough. The big GET after an upload still ran all of its JavaScript interpreted (perf:
 * every frame of its window interpreted, 8% of its samples compiling functions lazily), and on a
 * loaded machine (2 cores, load 10) that CPU came to 3-12 ms before the headers: the longer the
 * main thread runs, the more often the scheduler puts other processes before it. Baseline code is
 * not flushed when unused (V8 flushes unused bytecode, not baseline code: --no-flush-baseline-code).
 * Main thread's CPU from accept to the headers of a 1 GiB GET right after its PUT (bench/get-first-byte.ts,
 * perf task-clock at 20 kHz cut to the GET windows, paired with the build before in each round, load
 * 10-12): median 2.35 ms (0.5-8.0) against 10.75 (2.75-14.2); the build before against itself read
 * 6.9 and 10.2. Small PUTs' CPU (bench/put-cpu.ts) +1.7% all threads, -3.8% event loop, inside
 * that run's A/A noise (13%); RSS after 600 mixed requests 194 MB against 184.
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--no-lazy-feedback-allocation');
v8.setFlagsFromString('--always-sparkplug');
