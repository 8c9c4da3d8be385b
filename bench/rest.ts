/**
 * REST benchmark: syncgate's REST API (/api/v1/roots/<root>/files/...) against `rclone serve webdav`
 * (Debian) serving a folder, in the same run, with curl as the client for both. Prints medians and
 * syncgate/rclone ratios. Usage: npx tsx bench/rest.ts
 *   BENCH_REPS_BIG (default 3)  runs of the 1 GiB PUT and GET     BENCH_BIG_MIB (default 1024)
 *   BENCH_REPS (default 3)      runs of 1,000 x 4 KiB PUTs and GETs (1 connection and 8 parallel)
 * Servers are interleaved in every round so that drift on the shared machine hits both alike.
 * The share-link download of the same 1 GiB file (part B) belongs in the big rounds, as another row.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { basicAuth, curlClient, printPeerTable, putGetBig, record, SMALL_FILE_MODES, smallFileBatch, startRcloneWebdav, startSyncgateHttp, stopServers, waitForHttp, type HttpPeer } from './lib/http-peers.js';
import { printDiskCheck, procStatusKiB, writeRandomFile, writeSmallFiles } from './lib/measure.js';

const REPS_BIG = Number(process.env.BENCH_REPS_BIG ?? 3);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) * 1024 * 1024;
const SMALL = 1000;
const USER = 'admin';
const PASS = 'bench-password-1';

/** REST makes a folder with POST .../mkdir, rclone (WebDAV only) with MKCOL. */
interface Server extends HttpPeer {
  mkdir: (p: string) => Promise<unknown>;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-rest-'));
  const servers: Server[] = [];
  const procs: ChildProcess[] = [];
  const auth = { authorization: basicAuth(USER, PASS) };
  const curl = curlClient(USER, PASS);
  try {
    console.log(`preparing a ${BIG / 1048576} MiB file and ${SMALL} x 4 KiB files in ${work}`);
    const big = path.join(work, 'big.bin');
    await writeRandomFile(big, BIG);
    const small = path.join(work, 'small');
    await writeSmallFiles(small, SMALL);
    await printDiskCheck(work);

    const sg = await startSyncgateHttp(path.join(work, 'sg'), PASS);
    procs.push(sg.proc);
    const sgBase = `${sg.origin}/api/v1/roots/default`;
    await waitForHttp(`${sgBase}/list`, { headers: auth });
    servers.push({
      name: 'syncgate',
      file: (p) => `${sgBase}/files/${p}`,
      mkdir: async (p) => {
        const r = await fetch(`${sgBase}/mkdir`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path: p }) });
        if (r.status !== 201) throw new Error(`mkdir: ${r.status}`);
      },
      proc: sg.proc,
      results: {},
    });

    const rcDir = path.join(work, 'rc');
    await mkdir(rcDir);
    const rc = await startRcloneWebdav(rcDir, USER, PASS);
    procs.push(rc.proc);
    servers.push({ name: 'rclone', file: (p) => `${rc.origin}/${p}`, mkdir: (p) => curl.run(['-o', '/dev/null', '-X', 'MKCOL', `${rc.origin}/${p}/`]), proc: rc.proc, results: {} });

    for (let rep = 0; rep < REPS_BIG; rep += 1) {
      for (const s of servers) await putGetBig(curl, s, big, BIG, rep);
      process.stdout.write(`  big round ${rep + 1}/${REPS_BIG}\n`);
    }
    for (const s of servers) record(s, 'rss_peak_MiB', procStatusKiB(s.proc.pid!, 'VmHWM') / 1024);

    for (let rep = 0; rep < REPS; rep += 1) {
      for (const s of servers) {
        for (const [mode, extra] of SMALL_FILE_MODES) {
          const dir = `small-${mode}-${rep}`;
          await s.mkdir(dir);
          const url = (i: number) => s.file(`${dir}/f${i}.bin`);
          record(s, `small_put_${mode}_files_per_s`, await smallFileBatch(curl, path.join(work, `up-${s.name}-${dir}.cfg`), SMALL, url, ['-f', ...extra], small));
          record(s, `small_get_${mode}_files_per_s`, await smallFileBatch(curl, path.join(work, `down-${s.name}-${dir}.cfg`), SMALL, url, ['-f', ...extra]));
        }
      }
      process.stdout.write(`  small-file round ${rep + 1}/${REPS}\n`);
    }

    const [a, b] = servers as [Server, Server];
    console.log(`\nREST benchmark (syncgate REST vs rclone serve webdav, curl), medians (1 GiB: ${REPS_BIG} runs, small files: ${REPS} runs)`);
    printPeerTable(a, b, [
      { key: 'put_MBps', label: 'PUT 1 GiB (MB/s)' },
      { key: 'get_MBps', label: 'GET 1 GiB (MB/s)' },
      { key: 'small_put_one_files_per_s', label: '1,000 x 4 KiB PUT, 1 connection (files/s)' },
      { key: 'small_get_one_files_per_s', label: '1,000 x 4 KiB GET, 1 connection (files/s)' },
      { key: 'small_put_par8_files_per_s', label: '1,000 x 4 KiB PUT, 8 parallel (files/s)' },
      { key: 'small_get_par8_files_per_s', label: '1,000 x 4 KiB GET, 8 parallel (files/s)' },
      { key: 'rss_peak_MiB', label: 'peak RSS after the 1 GiB transfers (MiB)' },
    ]);
  } finally {
    await stopServers(procs);
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
