import type { FastifyPluginAsync } from 'fastify';
import type { AuditCheckpointPublisher } from '../audit/audit-checkpoint.service.js';
import { ApiError } from '../http/api-error.js';

const errorRef = { $ref: 'ApiError#' } as const;

/**
 * The newest signed audit checkpoint, as the server last wrote it to its file. Open to anyone, like
 * a Certificate Transparency log's signed tree head: it tells only how many entries the log has and
 * a hash that reveals nothing of them, and monitors outside the organisation may collect it. It is
 * served from memory and never signed on request, so asking costs nothing.
 */
export const auditRoutes =
  (checkpoints: AuditCheckpointPublisher): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/audit/checkpoint',
      {
        schema: {
          tags: ['audit'],
          summary: 'The newest signed checkpoint of the audit log (CMS SignedData, PEM)',
          description:
            'Verify it with: openssl cms -verify -inform PEM -in checkpoint.pem -CAfile root.pem -purpose any (root.pem from /pki/ca/root.pem); then reservkort audit verify --checkpoint checkpoint.pem.',
          response: {
            200: {
              description: 'The checkpoint file, as the server wrote it',
              content: { 'application/x-pem-file': { schema: { type: 'string' } } },
            },
            404: errorRef,
          },
        },
      },
      async (_request, reply) => {
        const latest = checkpoints.latest;
        if (latest === null) {
          throw new ApiError('AUDIT_CHECKPOINT_UNAVAILABLE', {
            reason: checkpoints.consecutiveFailures > 0 ? 'publishing failed' : 'not yet published',
          });
        }
        return reply
          .type('application/x-pem-file')
          .header('cache-control', 'no-cache')
          .header('last-modified', new Date(latest.checkpoint.time).toUTCString())
          .send(latest.pem);
      },
    );
  };
