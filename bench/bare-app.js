'use strict';
// The baseline for the authenticated read: a bare NestJS 11 app on the same Fastify adapter that
// answers GET /api/v1/users/me with a constant JSON of the same shape and size as the API's. No
// guard, no database, no helmet, no pipes: what Nest + Fastify cost by themselves on this machine.
// Plain JavaScript (decorators applied by hand) so it needs no build step.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

const BODY = {
  user: {
    id: '0b6f1a52-6a3e-4d0c-9a57-5f0c2d1e8b41',
    email: 'bench-user-0@example.com',
    name: 'Bench User 0',
    emailConfirmed: true,
    createdAt: '2026-01-01T00:00:00.000Z',
  },
};

class UsersController {
  me() {
    return BODY;
  }
}
Get('me')(UsersController.prototype, 'me', Object.getOwnPropertyDescriptor(UsersController.prototype, 'me'));
Controller('api/v1/users')(UsersController);

class BareModule {}
Module({ controllers: [UsersController] })(BareModule);

async function main() {
  const app = await NestFactory.create(BareModule, new FastifyAdapter(), { logger: false });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.send?.({ type: 'ready' });
}

main().catch((error) => {
  process.stderr.write(`bare-app: ${error.stack}\n`);
  process.exit(1);
});
