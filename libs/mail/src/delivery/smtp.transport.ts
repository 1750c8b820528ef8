import { connect, type Socket } from 'node:net';
import type SMTPPool from 'nodemailer/lib/smtp-pool';

/** What the transport needs to know from the mail configuration. */
export interface SmtpSettings {
  smtpUrl: string;
  smtpRequireTls: boolean;
}

/** nodemailer's own defaults: 465 for TLS from the start, else 587; two minutes to connect. */
const DEFAULT_PORT = { secure: 465, plain: 587 };
const DEFAULT_CONNECTION_TIMEOUT_MS = 120_000;

/**
 * The worker's SMTP transport: a pool of connections to SMTP_URL, STARTTLS required where the
 * configuration says so, and sockets with Nagle's algorithm off. nodemailer writes each command
 * and the message in several small writes; with Nagle on, every message waits for the server's
 * delayed ACK (about 40 ms on Linux), which held a worker at ~100 sends a second per connection
 * pool on loopback instead of well over a thousand. nodemailer takes a connected socket through
 * its public `getSocket` hook (made for proxies) and does everything else itself: TLS from the
 * start (`smtps://`) or STARTTLS, greeting, authentication, timeouts of the session.
 */
export function smtpTransportOptions(settings: SmtpSettings): SMTPPool.Options {
  return {
    url: settings.smtpUrl,
    pool: true,
    requireTLS: settings.smtpRequireTls,
    getSocket: (options, callback) => {
      openSocket(options)
        .then((connection) => callback(null, { connection }))
        .catch((error: Error) => callback(error));
    },
  };
}

/** A TCP connection to the SMTP server with TCP_NODELAY, within nodemailer's connection timeout. */
function openSocket(options: SMTPPool.Options): Promise<Socket> {
  const port = Number(options.port) || (options.secure ? DEFAULT_PORT.secure : DEFAULT_PORT.plain);
  const host = options.host ?? 'localhost';
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const fail = (error: Error & { code?: string }) => {
      socket.destroy();
      error.code ??= 'ECONNECTION';
      reject(error);
    };
    socket.setTimeout(options.connectionTimeout ?? DEFAULT_CONNECTION_TIMEOUT_MS, () => fail(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
