'use strict';
// The benchmark's SMTP server (smtp-server, accepting everything), in a process of its own so its
// work never competes with the load generator's event loop. It counts accepted messages, keeps
// the last one as a sample, and records when each message to a tracked address was accepted.
const { performance } = require('node:perf_hooks');
const { SMTPServer } = require('smtp-server');

let count = 0;
let bytes = 0;
let lastRaw = null;
let trackPrefix = null;
const arrivals = [];

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  closeTimeout: 50,
  size: 1024 * 1024,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      const raw = Buffer.concat(chunks);
      count += 1;
      bytes += raw.length;
      lastRaw = raw;
      if (trackPrefix !== null) {
        for (const rcpt of session.envelope.rcptTo) {
          if (rcpt.address.startsWith(trackPrefix)) arrivals.push([rcpt.address, at]);
        }
      }
      callback();
    });
  },
});
server.on('error', () => undefined);

process.on('message', async (message) => {
  if (!message || typeof message.cmd !== 'string' || message.cmd.startsWith('profile-')) return;
  const reply = (fields) => process.send({ id: message.id, ...fields });
  try {
    switch (message.cmd) {
      case 'stats':
        return reply({ count, bytes, at: performance.timeOrigin + performance.now() });
      case 'track':
        trackPrefix = message.prefix;
        arrivals.length = 0;
        return reply({ ok: true });
      case 'arrivals':
        return reply({ arrivals });
      case 'sample': {
        if (!lastRaw) return reply({ sample: null });
        const { simpleParser } = require('mailparser');
        const parsed = await simpleParser(lastRaw);
        return reply({
          sample: { from: parsed.from?.text ?? '', subject: parsed.subject ?? '', html: parsed.html || '', text: parsed.text ?? '', size: lastRaw.length },
        });
      }
      default:
        return reply({ error: `unknown command ${message.cmd}` });
    }
  } catch (error) {
    reply({ error: error.message });
  }
});

server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.server.address().port });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
