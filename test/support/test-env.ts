import { MetadataStorage } from '@mikro-orm/core';

/**
 * The environment every test process starts from. Tests that need other values set them before
 * booting an app; config is read when an app is created, not when a module is imported.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/accounts_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

Object.assign(process.env, {
  NODE_ENV: 'test',
  DATABASE_URL: TEST_DATABASE_URL,
  REDIS_URL: TEST_REDIS_URL,
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
  APP_URL: 'http://accounts.test',
  MAIL_FROM: 'Accounts <no-reply@accounts.test>',
  RATE_LIMIT_ENABLED: 'false',
  JWT_SECRET: 'test-only jwt secret, at least thirty-two bytes long',
  PAYLOAD_KEY: Buffer.alloc(32, 7).toString('base64'),
  MFA_KEY: Buffer.alloc(32, 9).toString('base64'),
  // Every API a test boots gets a free operators' port (several may run at once).
  OPS_PORT: '0',
});

// MikroORM keeps decorator metadata on globalThis, which outlives a test file's module registry;
// entities re-imported by the next file in the same worker would meet the previous file's objects.
// MetadataStorage.clear() is MikroORM's public way to forget it.
MetadataStorage.clear();
