import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type HeaderLines, type Headers } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** One message as the sink received it. */
export interface ReceivedMail {
  /** First address of the `To` header. */
  to: string;
  /** Every `To` address (a mail meant for one recipient has exactly one). */
  toAll: string[];
  from: string;
  subject: string;
  html: string;
  text: string;
  /** With angle brackets, as in the header: `<id@host>`. */
  messageId: string;
  headers: Headers;
  headerLines: HeaderLines;
  /** The SMTP envelope, which may differ from the headers. */
  envelope: { from: string; to: string[] };
  /** The message source as it came over the wire. */
  raw: string;
}

export interface SmtpSinkOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Delay before the sink acknowledges each message, to keep a delivery in flight. */
  latencyMs?: number;
}

interface Waiter {
  predicate: (mail: ReceivedMail) => boolean;
  resolve: (mail: ReceivedMail) => void;
}

/**
 * An in-process SMTP server for tests: plain SMTP on 127.0.0.1, any sender, any recipient, no auth.
 * It can go down and come back on the same port (`stop()` / `restart()`) and refuse chosen
 * recipients (`rejectRecipient`), so delivery failures are real SMTP failures.
 */
export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  private server: SMTPServer | undefined;
  private boundPort = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly rejections = new Map<string, number>();

  private constructor(private readonly options: SmtpSinkOptions) {}

  static async start(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const sink = new SmtpSink(options);
    await sink.listen(options.port ?? 0);
    return sink;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.boundPort}`;
  }

  /** Resolves with the first message, received already or later, that matches. */
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs = 10_000): Promise<ReceivedMail> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (mail) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(mail);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const seen = this.messages.map((m) => `${m.to}: ${m.subject}`).join('; ') || 'none';
        reject(new Error(`SmtpSink: no matching message within ${timeoutMs} ms (received: ${seen})`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Answers RCPT TO for `address` with `code` (5xx: permanent, 4xx: temporary) until accepted again. */
  rejectRecipient(address: string, code = 550): void {
    this.rejections.set(address.toLowerCase(), code);
  }

  acceptRecipient(address: string): void {
    this.rejections.delete(address.toLowerCase());
  }

  /** Stops listening and drops open connections; clients get "connection refused" until `restart()`. */
  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port, keeping the messages received so far. */
  async restart(): Promise<void> {
    if (this.server) return;
    await this.listen(this.boundPort);
  }

  private async listen(port: number): Promise<void> {
    // A closed SMTPServer ignores every later command, so each start gets a fresh one.
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Idle pooled client connections would otherwise hold stop() for 30 s.
      closeTimeout: 50,
      onRcptTo: (address, _session, callback) => {
        const code = this.rejections.get(address.address.toLowerCase());
        if (code === undefined) return callback();
        callback(Object.assign(new Error(`Recipient refused by the test sink (${code})`), { responseCode: code }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          this.receive(Buffer.concat(chunks), session).then(
            () => setTimeout(() => callback(), this.options.latencyMs ?? 0),
            (error: Error) => callback(error),
          );
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    this.boundPort = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  private async receive(raw: Buffer, session: SMTPServerSession): Promise<void> {
    const parsed = await simpleParser(raw);
    const toAll = addresses(parsed.to);
    const mail: ReceivedMail = {
      to: toAll[0] ?? '',
      toAll,
      from: addresses(parsed.from)[0] ?? '',
      subject: parsed.subject ?? '',
      html: parsed.html || '',
      text: parsed.text ?? '',
      messageId: parsed.messageId ?? '',
      headers: parsed.headers,
      headerLines: parsed.headerLines,
      envelope: {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      },
      raw: raw.toString('utf8'),
    };
    this.messages.push(mail);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(mail)) waiter.resolve(mail);
    }
  }
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((object) => object.value.map((entry) => entry.address ?? '')).filter(Boolean);
}
