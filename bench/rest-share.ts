/**
 * Share-link benchmark: download of one big file through a public share link (/s/<token>/download)
 * against the plain authenticated REST download (/api/v1/roots/<root>/files/<path>) of the same
 * file from the same syncgate process, in the same run, with curl as the client. Target: the share
 * link at >= 0.9x the REST download. Also a password-protected link (X-Share-Password header).
 * Usage: npx tsx bench/rest-share.ts     BENCH_REPS_BIG (default 5)   BENCH_BIG_MIB (default 1024)
 * Rounds alternate the order of the URLs so that drift on the shared machine hits all alike.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { basicAuth, startSyncgateHttp } from './lib/http-peers.js';
import { exec, median, writeRandomFile } from './lib/measure.js';

const REPS = Number(process.env.BENCH_REPS_BIG ?? 5);
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) * 1024 * 1024;
const PASS = 'bench-password-1';

/** Seconds for one GET to /dev/null, failing on any status but 200. */
async function curlGet(url: string, extra: string[]): Promise<number> {
  const out = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{time_total} %{size_download}', ...extra, url]);
  const [code, secs, size] = out.trim().split(' ');
  if (code !== '200' || Number(size) !== BIG) throw new Error(`GET ${url}: HTTP ${code}, ${size} bytes`);
  return Number(secs);
}

/** CPU seconds (user + system) the process has used so far: a figure that load on the machine hardly moves. */
async function cpuSecs(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-share-'));
  const { proc: sg, origin: base } = await startSyncgateHttp(path.join(work, 'sg'), PASS).catch(async (err: unknown) => {
    await rm(work, { recursive: true, force: true });
    throw err;
  });
  try {
    // A token for the whole run: one password check, not one per request.
    const auth = basicAuth('admin', PASS);
    const login = (await (await fetch(`${base}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password: PASS }) })).json()) as { token: string };
    const bearer = ['-H', `Authorization: Bearer ${login.token}`];

    const src = path.join(work, 'big.bin');
    console.log(`preparing a ${BIG / 2 ** 20} MiB file...`);
    await writeRandomFile(src, BIG);
    await exec('curl', ['-sf', '-H', 'Expect:', ...bearer, '-T', src, `${base}/api/v1/roots/default/files/big.bin`]);
    await rm(src);

    const mk = async (extra: Record<string, unknown>) => {
      const res = await fetch(`${base}/api/v1/shares`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ root: 'default', path: 'big.bin', ...extra }) });
      if (res.status !== 201) throw new Error(`share link: HTTP ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    };
    const open = await mk({});
    const locked = await mk({ password: 'bench share password' });

    const cases: { name: string; url: string; extra: string[]; secs: number[]; cpu: number[] }[] = [
      { name: 'REST download (bearer)', url: `${base}/api/v1/roots/default/files/big.bin`, extra: bearer, secs: [], cpu: [] },
      { name: 'share link download', url: `${base}/s/${open}/download`, extra: [], secs: [], cpu: [] },
      { name: 'share link + password', url: `${base}/s/${locked}/download`, extra: ['-H', 'X-Share-Password: bench share password'], secs: [], cpu: [] },
    ];
    await curlGet(cases[0]!.url, cases[0]!.extra); // warm the page cache
    for (let round = 0; round < REPS; round += 1) {
      const order = round % 2 === 0 ? cases : [...cases].reverse();
      for (const c of order) {
        const before = await cpuSecs(sg.pid!);
        c.secs.push(await curlGet(c.url, c.extra));
        c.cpu.push((await cpuSecs(sg.pid!)) - before);
      }
    }
    const mibs = (c: (typeof cases)[number], pick = median) => BIG / 2 ** 20 / pick(c.secs);
    const best = (xs: number[]) => Math.min(...xs);
    const rest = mibs(cases[0]!);
    const restBest = mibs(cases[0]!, best);
    const restCpu = median(cases[0]!.cpu);
    console.log(`\nGET of a ${BIG / 2 ** 20} MiB file, ${REPS} rounds, curl -> /dev/null (MiB/s: median and best run; server CPU s per GET, median):`);
    for (const c of cases) {
      const v = mibs(c);
      const b = mibs(c, best);
      const cpu = median(c.cpu);
      console.log(
        `  ${c.name.padEnd(24)} median ${v.toFixed(0).padStart(5)} MiB/s (${(v / rest).toFixed(2)}x)  best ${b.toFixed(0).padStart(5)} MiB/s (${(b / restBest).toFixed(2)}x)  ` +
          `server CPU ${cpu.toFixed(2)} s (${(restCpu / cpu).toFixed(2)}x)   runs: ${c.secs.map((x) => x.toFixed(2)).join(' ')} s`,
      );
    }
    const ratio = mibs(cases[1]!) / rest;
    const ratioBest = mibs(cases[1]!, best) / restBest;
    const ratioCpu = restCpu / median(cases[1]!.cpu);
    const verdict = (x: number) => (x >= 0.9 ? 'met' : 'NOT met');
    console.log(`\nshare link / REST download (target >= 0.90x): median ${ratio.toFixed(2)}x ${verdict(ratio)}; best run ${ratioBest.toFixed(2)}x ${verdict(ratioBest)}; server CPU per byte ${ratioCpu.toFixed(2)}x ${verdict(ratioCpu)}`);
    console.log('(wall-clock rounds drift a lot on a shared machine; the CPU figure is the one load hardly moves)');
  } finally {
    sg.kill('SIGTERM');
    await new Promise((r) => sg.once('exit', r));
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
