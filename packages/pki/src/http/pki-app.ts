import { createServer } from 'node:http';
import { describeError } from '@reservkort/domain';
import Fastify, { type FastifyInstance } from 'fastify';
import type { CertificateAuthority } from '../ca/certificate-authority.js';
import type { OcspResponder } from '../ocsp/ocsp-responder.js';
import { isPkiError } from '../pki-error.js';
import { ocspFastPath } from './ocsp-fast-path.js';
import { pkiRoutes } from './pki-routes.js';

/**
 * The PKI endpoints as an app of their own, for running the CA without the server (tests,
 * benchmarks, a CA operator's host). The server mounts `pkiRoutes` instead.
 */
export const buildPkiApp = async (
  ca: CertificateAuthority,
  responder: OcspResponder,
): Promise<FastifyInstance> => {
  const fast = ocspFastPath(responder);
  const app = Fastify({
    logger: false,
    keepAliveTimeout: 65_000,
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (!fast(req, res)) handler(req, res);
      }),
  });
  app.setErrorHandler((error, _request, reply) => {
    if (isPkiError(error)) {
      const status =
        error.code === 'CERTIFICATE_NOT_FOUND' || error.code === 'CA_NOT_INITIALISED' ? 404 : 400;
      return reply.status(status).send({
        code: error.code,
        message: { sv: describeError(error, 'sv').title, en: describeError(error, 'en').title },
      });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.status(status >= 400 && status < 500 ? status : 500).send({
      code: status >= 500 ? 'INTERNAL' : 'BAD_REQUEST',
      message: { sv: 'Felaktig begäran', en: 'Bad request' },
    });
  });
  await app.register(pkiRoutes, { ca, responder });
  return app;
};
