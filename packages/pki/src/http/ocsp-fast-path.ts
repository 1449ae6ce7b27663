import type { IncomingMessage, ServerResponse } from 'node:http';
import { MALFORMED_REQUEST, type OcspAnswer, type OcspResponder, uncached } from '../ocsp/ocsp-responder.js';

/** A real OCSP request is a few hundred bytes; anything far larger is refused unread. */
export const MAX_OCSP_REQUEST = 8 * 1024;
export const OCSP_RESPONSE_TYPE = 'application/ocsp-response';

/**
 * The freshness headers of RFC 5019 §6 for something signed with a thisUpdate and nextUpdate (an
 * OCSP answer, a CRL): a cache may keep it `maxAgeSeconds` (0: revalidate every use, with the
 * ETag), and never past nextUpdate.
 */
export const freshnessHeaders = (caching: {
  readonly maxAgeSeconds: number;
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  readonly etag: string;
}): Record<string, string> => ({
  'cache-control': `max-age=${caching.maxAgeSeconds}, public, no-transform, must-revalidate`,
  'last-modified': new Date(caching.thisUpdate).toUTCString(),
  expires: new Date(caching.nextUpdate).toUTCString(),
  etag: caching.etag,
});

export const ocspHeaders = (answer: OcspAnswer): Record<string, string | number> => ({
  'content-type': OCSP_RESPONSE_TYPE,
  'content-length': answer.der.byteLength,
  ...(answer.caching === null ? { 'cache-control': 'no-store' } : freshnessHeaders(answer.caching)),
});

/** Whether a conditional request already holds this version (`If-None-Match`, RFC 9110 §13.1.2). */
export const alreadyHeld = (ifNoneMatch: string | string[] | undefined, etag: string): boolean => {
  if (ifNoneMatch === undefined) return false;
  const tags = (Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch)
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''));
  return tags.includes(etag) || tags.includes('*');
};

/** An answer as it goes on the wire: its headers, and its bytes as a latin1 string (one char a byte). */
interface Wire {
  readonly headers: string[];
  readonly body: string;
}

/**
 * The headers and body of each answer, made once: a cached answer is sent again and again, and
 * building the headers (two dates, an object spread) cost as much as the rest of a cache hit. The
 * body goes as a latin1 string because Node then writes it in one piece with the headers: given
 * bytes, it sends headers and body as two buffers through the socket's writev, more work in Node
 * and in the kernel for every answer. Held weakly, so they go with the answer when the responder's
 * cache lets it go.
 */
const wireOf = new WeakMap<OcspAnswer, Wire>();
const wire = (answer: OcspAnswer): Wire => {
  let sent = wireOf.get(answer);
  if (sent === undefined) {
    sent = {
      headers: Object.entries(ocspHeaders(answer)).flatMap(([name, value]) => [name, String(value)]),
      body: Buffer.from(answer.der.buffer, answer.der.byteOffset, answer.der.byteLength).toString('latin1'),
    };
    // An uncached answer is made for one request: nothing to keep.
    if (answer.caching !== null) wireOf.set(answer, sent);
  }
  return sent;
};

const send = (res: ServerResponse, answer: OcspAnswer): void => {
  const { headers, body } = wire(answer);
  res.writeHead(200, headers);
  res.end(body, 'latin1');
};

/**
 * POST /ocsp answered on Node's own request/response objects, before the web framework: OCSP
 * clients and caches send the same request bytes again and again, and a cached answer should cost
 * no more than HTTP itself. Returns false for every other request, which the framework then serves.
 */
export const ocspFastPath =
  (responder: OcspResponder) =>
  (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST' || req.url !== '/ocsp') return false;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OCSP_REQUEST) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_OCSP_REQUEST) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      if (body.length === 0) return send(res, uncached(MALFORMED_REQUEST));
      const key = body.toString('latin1');
      const hit = responder.cached(key);
      if (hit !== undefined) return send(res, hit);
      responder.respond(body, key).then(
        (answer) => send(res, answer),
        () => res.writeHead(500).end(),
      );
    });
    req.on('error', () => res.destroy());
    return true;
  };
