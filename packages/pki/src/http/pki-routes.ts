import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { CaId, CertificateAuthority, CrlCaId } from '../ca/certificate-authority.js';
import { pemOf } from '../encoding/pem-text.js';
import { MALFORMED_REQUEST, type OcspAnswer, type OcspResponder } from '../ocsp/ocsp-responder.js';
import { MAX_OCSP_REQUEST, ocspHeaders } from './ocsp-fast-path.js';

export interface PkiRoutesOptions {
  readonly ca: CertificateAuthority;
  readonly responder: OcspResponder;
}

const OCSP_REQUEST = 'application/ocsp-request';

const CA_FILES: Record<string, CaId> = { root: 'root', loa3: 'loa3', loa2: 'loa2', bureau: 'bureau' };
const CRL_FILES: Record<string, CrlCaId> = { root: 'root', loa3: 'loa3', loa2: 'loa2', bureau: 'bureau' };

const sendOcsp = (reply: FastifyReply, answer: OcspAnswer) =>
  reply
    .headers(ocspHeaders(answer))
    .send(Buffer.from(answer.der.buffer, answer.der.byteOffset, answer.der.byteLength));

/**
 * The public PKI endpoints: CA certificates, CRLs and OCSP. Mounted by the server; also runs on
 * its own (tests, benchmark). Bad input gets an RFC 6960 error status, never a 500.
 */
export const pkiRoutes: FastifyPluginAsync<PkiRoutesOptions> = async (
  app: FastifyInstance,
  { ca, responder },
) => {
  app.addContentTypeParser(
    OCSP_REQUEST,
    { parseAs: 'buffer', bodyLimit: MAX_OCSP_REQUEST },
    (_req, body, done) => done(null, body),
  );

  app.get<{ Params: { name: string; ext: string } }>(
    '/pki/ca/:name.:ext',
    {
      schema: {
        params: {
          type: 'object',
          properties: {
            name: { type: 'string', enum: Object.keys(CA_FILES) },
            ext: { type: 'string', enum: ['pem', 'crt'] },
          },
          required: ['name', 'ext'],
        },
      },
    },
    async (request, reply) => {
      const id = CA_FILES[request.params.name] as CaId;
      const certificate = (await ca.loadCa(id)).certificate;
      if (request.params.ext === 'pem') {
        return reply.type('application/x-pem-file').send(pemOf(certificate));
      }
      return reply.type('application/pkix-cert').send(Buffer.from(certificate.rawData));
    },
  );

  app.get<{ Params: { name: string } }>(
    '/pki/crl/:name.crl',
    {
      schema: {
        params: {
          type: 'object',
          properties: { name: { type: 'string', enum: Object.keys(CRL_FILES) } },
          required: ['name'],
        },
      },
    },
    async (request, reply) => {
      const crl = await ca.currentCrl(CRL_FILES[request.params.name] as CrlCaId);
      reply.header('expires', new Date(crl.nextUpdate).toUTCString());
      return reply.type('application/pkix-crl').send(Buffer.from(crl.der));
    },
  );

  app.post('/ocsp', async (request, reply) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) return sendOcsp(reply, { der: MALFORMED_REQUEST, maxAgeSeconds: 0 });
    return sendOcsp(reply, await responder.respond(body, body.toString('latin1')));
  });

  // RFC 5019/6960 GET: the request DER, base64 (URL-encoded) in the path.
  app.get<{ Params: { '*': string } }>('/ocsp/*', async (request, reply) => {
    const encoded = request.params['*'];
    let der: Buffer;
    try {
      der = Buffer.from(decodeURIComponent(encoded), 'base64');
    } catch {
      return sendOcsp(reply, { der: MALFORMED_REQUEST, maxAgeSeconds: 0 });
    }
    if (der.length === 0 || der.length > MAX_OCSP_REQUEST)
      return sendOcsp(reply, { der: MALFORMED_REQUEST, maxAgeSeconds: 0 });
    return sendOcsp(reply, await responder.respond(der, der.toString('latin1')));
  });
};
