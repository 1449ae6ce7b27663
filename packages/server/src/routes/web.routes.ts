import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../server-context.js';

/** Where the page looks for the card agent when the configuration names none (the agent's default port). */
export const DEFAULT_AGENT_URL = 'http://127.0.0.1:31443';

const pageConfig = {
  type: 'object',
  properties: {
    training: { type: 'boolean' },
    agentUrl: { type: 'string' },
    /** The portal's configured address, when known: where to send a page the agent refuses. */
    portalUrl: { type: 'string' },
    version: { type: 'string' },
  },
  required: ['training', 'agentUrl', 'version'],
} as const;

/**
 * The web UI: its configuration at /api/config and the built bundle at /. The page may talk to this
 * server and to the card agent's origin, nothing else (the content security policy says so).
 */
export const webRoutes =
  (ctx: ServerContext): FastifyPluginAsync =>
  async (app) => {
    const agentUrl = ctx.agentUrl ?? DEFAULT_AGENT_URL;
    app.get(
      '/api/config',
      {
        schema: {
          tags: ['web'],
          summary:
            'What the page needs to start: training mode, where the card agent listens, the portal’s configured address',
          response: { 200: pageConfig },
        },
      },
      async () => ({
        training: ctx.training,
        agentUrl,
        ...(ctx.publicUrl === undefined ? {} : { portalUrl: new URL(ctx.publicUrl).origin }),
        version: '0.1.0',
      }),
    );

    const root = ctx.webRoot ?? null;
    if (root === null || !existsSync(join(root, 'index.html'))) {
      app.get('/', { schema: { hide: true } }, async (_request, reply) =>
        reply
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>Reservkort</title>' +
              '<p>The web UI is not built. Run <code>npm run build -w @reservkort/web</code> and restart.</p></html>',
          ),
      );
      return;
    }
    const policy = [
      "default-src 'self'",
      `connect-src 'self' ${new URL(agentUrl).origin}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'self'",
      "form-action 'self'",
    ].join('; ');
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      index: ['index.html'],
      wildcard: true,
      setHeaders: (res, path) => {
        res.header('content-security-policy', policy);
        // Hashed assets never change; the page itself is always fetched fresh.
        res.header(
          'cache-control',
          path.endsWith('index.html') || path.endsWith('favicon.svg')
            ? 'no-cache'
            : 'public, max-age=31536000, immutable',
        );
      },
    });
    // Browsers and tools that ask for the classic icon path get the product's icon too.
    app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect('/favicon.svg', 301),
    );
  };
