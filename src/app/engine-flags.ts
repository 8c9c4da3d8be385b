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
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--no-lazy-feedback-allocation');
