import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { ApiError } from './api-error.js';

/** How the unauthenticated routes are limited, per client address. */
export interface RateLimitSettings {
  /** Requests a client address may make to each limited route per minute. */
  readonly perMinute: number;
  /** Counters shared by every server on this Redis; without it each server counts alone. */
  readonly redis: Redis | null;
  /** The prefix of the counters' keys in Redis. */
  readonly nameSpace?: string;
}

/**
 * Sixty a minute: far above what a person logging in needs (one challenge, one login), and it bounds
 * the challenges one address can leave in the database to what two minutes of it make.
 */
export const DEFAULT_RATE_LIMIT: RateLimitSettings = { perMinute: 60, redis: null };

export const RATE_LIMIT_NAMESPACE = 'reservkort-rate-limit-';

/**
 * A route's `config` that puts it under the limit (each route has its own budget per address). The
 * in-memory counters of a route remember this many addresses, the least recently seen forgotten.
 */
export const RATE_LIMITED = { rateLimit: { cache: 10_000 } } as const;

/**
 * Registers the limiter before the routes. The in-memory counter always runs, so the limit holds on
 * each server even while Redis cannot be reached; with Redis a second counter, shared by all
 * servers, runs beside it and reaches the limit first. Redis errors are skipped (the in-memory
 * counter still limits), never turned into failed logins. The client address is Fastify's
 * `request.ip` (behind a proxy: set trustProxy), IPv6 taken per /64 as one client.
 */
export const registerRateLimit = async (app: FastifyInstance, settings: RateLimitSettings): Promise<void> => {
  const common: RateLimitPluginOptions = {
    global: false,
    max: settings.perMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      new ApiError('RATE_LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  };
  await app.register(rateLimit, common);
  if (settings.redis !== null)
    await app.register(rateLimit, {
      ...common,
      redis: settings.redis,
      nameSpace: settings.nameSpace ?? RATE_LIMIT_NAMESPACE,
      skipOnError: true,
    });
};

/** `redis://host:port/db` as logs may show it: never the password. */
export const redisAddress = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis (an invalid URL)';
  }
};

/**
 * A Redis client for the limiter, tuned as the plugin advises: a short connect timeout, one retry,
 * and no offline queue, so a command fails at once while Redis is away instead of holding a login.
 * Resolves once connected, or with `reachable: false` after `waitMs` (the client keeps trying).
 */
export const connectRateLimitRedis = async (
  url: string,
  onError: (message: string) => void,
  waitMs = 2000,
): Promise<{ redis: Redis; reachable: boolean }> => {
  const redis = new Redis(url, {
    connectionName: 'reservkort-rate-limit',
    connectTimeout: 500,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  // One line per outage, not one per reconnection attempt.
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    onError(`rate-limit store ${redisAddress(url)} unreachable (${error.message}); each server limits alone`);
  });
  redis.on('ready', () => {
    reported = false;
  });
  const reachable = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  return { redis, reachable };
};

/** Ends the client: politely when connected, at once otherwise (so no reconnection keeps the process alive). */
export const closeRateLimitRedis = async (redis: Redis): Promise<void> => {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
};
