import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../worker/harness.js';

/** A self-signed certificate for 127.0.0.1, made with the machine's openssl. */
async function selfSigned(dir: string): Promise<{ pem: string; cert: string }> {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  const pem = path.join(dir, 'keystore.pem');
  await writeFile(pem, (await readFile(key, 'utf8')) + (await readFile(cert, 'utf8')));
  return { pem, cert: await readFile(cert, 'utf8') };
}

function getJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('REST API over TLS', () => {
  let dir: string;
  let keys: { pem: string; cert: string };
  let h: Harness | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-tls-'));
    keys = await selfSigned(dir);
  });
  afterEach(async () => {
    await h?.worker.stop();
    h = undefined;
  });

  it('serves the Connect API on an https listener with a PEM keystore', async () => {
    h = await startHarness({
      listeners: 'https://127.0.0.1:0',
      'listeners.https.ssl.keystore.location': keys.pem,
    });
    expect(h.url.startsWith('https://127.0.0.1:')).toBe(true);
    const res = await getJson(`${h.url}/`, keys.cert);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    // A client that does not trust the certificate is refused by TLS itself.
    await expect(getJson(`${h.url}/connectors`, '')).rejects.toThrow();
  });

  it('serves the operations console on the same https listener, with the same auth', async () => {
    h = await startHarness({
      listeners: 'https://127.0.0.1:0',
      'listeners.https.ssl.keystore.location': keys.pem,
      'rest.auth.type': 'basic',
      'rest.auth.basic.username': 'ops',
      'rest.auth.basic.password': 'tls-pa55',
    });
    const get = (p: string, auth?: string) =>
      new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
        request(`${h!.url}${p}`, { ca: keys.cert, headers: auth ? { authorization: auth } : {} }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
        })
          .on('error', reject)
          .end();
      });
    const basic = `Basic ${Buffer.from('ops:tls-pa55').toString('base64')}`;
    expect(await get('/console/', basic)).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect((await get('/erpstream/v1/metrics/history', basic)).status).toBe(200);
    expect((await get('/console/')).status).toBe(401);
  });

  it('names the key when the keystore is missing or is not a key plus certificate', async () => {
    await expect(startHarness({ listeners: 'https://127.0.0.1:0' })).rejects.toThrow(
      'listeners.https.ssl.keystore.location',
    );
    const certOnly = path.join(dir, 'cert-only.pem');
    await writeFile(certOnly, keys.cert);
    await expect(
      startHarness({ listeners: 'https://127.0.0.1:0', 'listeners.https.ssl.keystore.location': certOnly }),
    ).rejects.toThrow(/listeners\.https\.ssl\.keystore\.location: the PEM file must hold a private key/);
  });
});
