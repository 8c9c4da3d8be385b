import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpDoor, type HttpDoor } from '../../protocols/http/index.js';
import { httpOptions } from '../../protocols/http/options.js';
import { makeCore, type TestCore } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Router paths in OpenAPI form: ':x' -> '{x}', an optional '{/*path}' gives both variants. */
function openApiPaths(routerPath: string): string[] {
  const p = routerPath.replace(/:([A-Za-z_]\w*)/g, '{$1}');
  if (p.includes('{/*path}')) return [p.replace('{/*path}', ''), p.replace('{/*path}', '/{path}')];
  return [p.replace('/*path', '/{path}').replace('{*path}', '{path}')];
}

describe('the OpenAPI document', () => {
  let tc: TestCore;
  let door: HttpDoor;
  let t: TestGateway;
  beforeAll(async () => {
    tc = await makeCore();
    door = createHttpDoor({ core: tc.core, options: httpOptions.parse({}), log: pino({ level: 'silent' }), metrics: new Registry(), publicUrl: 'http://127.0.0.1:1' });
    t = await startTestGateway();
  });
  afterAll(async () => {
    await door?.close();
    await tc?.close();
    await t?.close();
  });

  it('documents every route under /api/v1, and documents nothing that is not a route', async () => {
    const res = await fetch(`${t.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const routed = new Set<string>();
    for (const r of door.routes!) {
      for (const p of openApiPaths(r.path)) {
        if (!p.startsWith('/api/v1')) continue;
        for (const m of r.methods) routed.add(`${m.toLowerCase()} ${p}`);
      }
    }
    const documented = new Set<string>();
    for (const [p, item] of Object.entries(doc.paths)) for (const m of Object.keys(item)) if (METHODS.includes(m)) documented.add(`${m} ${p}`);
    const undocumented = [...routed].filter((x) => !documented.has(x));
    const phantom = [...documented].filter((x) => !routed.has(x));
    expect(undocumented).toEqual([]);
    expect(phantom).toEqual([]);
    expect(routed.size).toBeGreaterThan(40);
  });

  it('every path template parameter is declared, every operation has responses', async () => {
    const doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
    for (const [p, item] of Object.entries(doc.paths)) {
      const names = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [m, op] of Object.entries(item)) {
        if (!METHODS.includes(m)) continue;
        const declared = new Set([...(item.parameters ?? []), ...(op.parameters ?? [])].filter((x: any) => x.in === 'path').map((x: any) => x.name));
        for (const n of names) expect(declared.has(n), `${m} ${p} declares {${n}}`).toBe(true);
        expect(Object.keys(op.responses ?? {}).length, `${m} ${p} has responses`).toBeGreaterThan(0);
      }
    }
  });
});
