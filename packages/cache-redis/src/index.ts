export { createRedisCache, REDIS_CACHE_CONNECTION_NAME } from './redis-cache.ts';
export type { RedisCache, RedisCacheOptions } from './redis-cache.ts';
export { RedisCacheError, isRedisCacheError } from './errors.ts';
export type { RedisCacheErrorCode } from './errors.ts';
