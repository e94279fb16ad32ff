import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { FailureError } from '../errors.js';
import { clip, safeText } from '../util/sanitize.js';
import { writeNewFile } from './paths.js';
import { parseTimestampReply, timestampRequest, tokenSigner } from './tsp.js';

/** The TSA's reply, stored beside SHA256SUMS (not listed in it: it is made after it). */
export const TSR_FILE = 'SHA256SUMS.tsr';
const MAX_REPLY = 256 * 1024;
const TIMEOUT_MS = 30_000;

/** POSTs an RFC 3161 request (application/timestamp-query); the reply's bytes, bounded. */
export function postTimestampQuery(url: string, body: Buffer): Promise<Buffer> {
  const u = new URL(url);
  const get = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = get.request(
      u,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/timestamp-query',
          accept: 'application/timestamp-reply',
          'content-length': body.length,
        },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > MAX_REPLY) req.destroy(new Error(`the reply is larger than ${MAX_REPLY} bytes`));
          else parts.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200)
            reject(
              new Error(`HTTP ${res.statusCode} ${clip(safeText(res.statusMessage ?? ''), 80)}`),
            );
          else resolve(Buffer.concat(parts));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Asks the authority at `url` to timestamp SHA256SUMS and stores its reply as SHA256SUMS.tsr. The
 * reply must grant the request, carry this digest and nonce, and be signed by its certificate: a
 * token that says anything else is not stored, and sealing fails (a seal asked to have a trusted
 * time does not pretend it has one).
 */
export async function timestampSums(
  root: string,
  url: string,
  sums: Buffer,
  onProgress?: (p: { message?: string }) => void,
): Promise<{ tsa: string; genTime: string }> {
  onProgress?.({ message: `timestamping SHA256SUMS at ${url} (RFC 3161)` });
  const digest = createHash('sha256').update(sums).digest();
  const nonce = randomBytes(8);
  nonce[0] &= 0x7f;
  const fail = (why: string, cause?: unknown): FailureError =>
    new FailureError(`the time-stamping authority ${url} did not timestamp SHA256SUMS: ${why}`, {
      hint: `Nothing was sealed. Check that ${url} answers RFC 3161 requests, then seal again (\`cirt seal --case ${path.basename(root)} --tsa URL\`), or without --tsa to keep the host's times.`,
      cause,
    });
  let der: Buffer;
  try {
    der = await postTimestampQuery(url, timestampRequest(digest, nonce));
  } catch (err) {
    throw fail(safeText((err as Error).message), err);
  }
  let reply;
  try {
    reply = parseTimestampReply(der);
  } catch (err) {
    throw fail(`its reply is not a TimeStampResp (${safeText((err as Error).message)})`, err);
  }
  if (reply.status > 1 || !reply.tst)
    throw fail(
      `it refused (status ${reply.status}${reply.statusText ? `: ${clip(safeText(reply.statusText), 120)}` : ''})`,
    );
  const t = reply.tst;
  if (t.hashAlgorithm !== 'sha256' || !t.imprint.equals(digest))
    throw fail('the token is for another digest');
  if (BigInt(`0x${t.nonce ?? '0'}`) !== BigInt(`0x${nonce.toString('hex')}`))
    throw fail('the token does not carry our nonce (a replayed or foreign reply)');
  if (!tokenSigner(reply))
    throw fail('the token’s signature does not verify with a certificate it carries');
  writeNewFile(path.join(root, TSR_FILE), der);
  return { tsa: url, genTime: t.genTime };
}
