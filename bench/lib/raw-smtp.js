'use strict';
// Baseline for mail throughput: nodemailer alone, with the worker's transport options (taken from
// the build under test, smtpTransportOptions: the same pool, the same sockets) and the worker's
// concurrency, sending one fixed, already rendered message over and over. No queue, no Redis, no
// templates, no Nest. TRANSPORT_MODULE names the built smtp.transport.js.
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
// The nodemailer that @nestjs-modules/mailer (the worker's mailer) loads.
const nodemailer = require(require.resolve('nodemailer', { paths: [require.resolve('@nestjs-modules/mailer')] }));

async function run({ url, message, concurrency, seconds }) {
  const { smtpTransportOptions } = require(process.env.TRANSPORT_MODULE);
  const transport = nodemailer.createTransport(smtpTransportOptions({ smtpUrl: url, smtpRequireTls: false }));
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  let failed = 0;
  const loop = async () => {
    while (performance.now() < end) {
      try {
        await transport.sendMail({ ...message, messageId: `<${randomUUID()}@localhost>` });
        sent += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  transport.close();
  return { sent, failed, seconds };
}

process.on('message', (message) => {
  if (!message || message.cmd !== 'send') return;
  run(message)
    .then((result) => process.send({ id: message.id, ...result }))
    .catch((error) => process.send({ id: message.id, error: error.message }));
});
process.send({ type: 'ready' });
