import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Revoking a link stops what it still sends: a folder's zip already under way adds no file after
 * the revocation ("I shared the wrong folder" must not end with the whole folder downloaded).
 */
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
const FILES = 24;
const FILE_BYTES = 1 << 20;

describe('a link revoked while its folder zip is streaming', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
    for (let i = 0; i < FILES; i += 1) {
      const res = await fetch(`${t.url}/api/v1/roots/docs/files/wrong/f${i}.bin`, { method: 'PUT', headers: { authorization: ALICE }, body: Buffer.alloc(FILE_BYTES, i) });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => t?.close());

  /** Opens a link to `path`, downloads it, and revokes the link once 2 files' worth has arrived. */
  async function downloadRevokedMidway(path: string): Promise<{ bytes: number; complete: boolean }> {
    const created = await fetch(`${t.url}/api/v1/shares`, {
      method: 'POST',
      headers: { authorization: ALICE, 'content-type': 'application/json' },
      body: JSON.stringify({ root: 'docs', path }),
    });
    const { token, share } = (await created.json()) as { token: string; share: { id: number } };
    const u = new URL(t.url);
    return new Promise<{ bytes: number; complete: boolean }>((resolve, reject) => {
      http
        .get({ host: u.hostname, port: u.port, path: `/s/${token}/download` }, (res) => {
          expect(res.statusCode).toBe(200);
          let bytes = 0;
          let revoking = false;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (revoking || bytes < 2 * FILE_BYTES) return;
            revoking = true;
            res.pause();
            void fetch(`${t.url}/api/v1/shares/${share.id}`, { method: 'DELETE', headers: { authorization: ALICE } }).then((r) => {
              expect(r.status).toBe(204);
              res.resume();
            }, reject);
          });
          res.on('end', () => resolve({ bytes, complete: res.complete }));
          res.on('error', () => resolve({ bytes, complete: false }));
          res.on('aborted', () => resolve({ bytes, complete: false }));
        })
        .on('error', reject);
    });
  }

  it('adds no file after the revocation: the zip is cut long before the folder is sent', async () => {
    const outcome = await downloadRevokedMidway('wrong');
    expect(outcome.complete).toBe(false);
    // What was read ahead before the revocation may still go out; not the rest of the folder.
    expect(outcome.bytes).toBeLessThan((FILES / 2) * FILE_BYTES);
  });

  it('a single big file stops going out soon after the revocation, not at its end', async () => {
    const big = 24 * FILE_BYTES;
    const put = await fetch(`${t.url}/api/v1/roots/docs/files/big.bin`, { method: 'PUT', headers: { authorization: ALICE }, body: Buffer.alloc(big, 7) });
    expect(put.status).toBe(201);
    const outcome = await downloadRevokedMidway('big.bin');
    expect(outcome.complete).toBe(false);
    expect(outcome.bytes).toBeLessThan(big / 2);
  });
});
