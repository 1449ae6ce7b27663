import type { FastifyInstance } from 'fastify';

/**
 * Answers of the API carry session data (the CSRF token of /api/auth/me and of a login, persons,
 * flows, support cases): no browser or proxy cache may keep them, errors included. A route that
 * sets its own Cache-Control keeps it; the web UI's files and the PKI's answers are not under /api.
 */
export const registerNoStoreForApi = (app: FastifyInstance): void => {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });
};
