import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { MailerService } from '@nestjs-modules/mailer';
import { appConfig, mailConfig } from '@accounts/config';
import type { OutgoingMail } from './mail.composer';

export interface Delivery {
  /** Where the message was written when there is no SMTP server (development). */
  file?: string;
}

/**
 * Sends over SMTP, or, without SMTP_URL, writes the message as an .eml file to MAIL_OUTBOX_DIR.
 * The Message-ID is the event id, so a mail sent twice after a crash is recognisably one mail.
 */
@Injectable()
export class MailSender {
  private readonly logger = new Logger(MailSender.name);
  private readonly messageIdDomain: string;

  constructor(
    private readonly mailer: MailerService,
    @Inject(mailConfig.KEY) private readonly config: ConfigType<typeof mailConfig>,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
  ) {
    this.messageIdDomain = new URL(app.url).hostname;
  }

  async send(mail: OutgoingMail, eventId: string): Promise<Delivery> {
    const info = await this.mailer.sendMail({
      from: this.config.from,
      to: mail.to,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      messageId: `<${eventId}@${this.messageIdDomain}>`,
    });
    if (this.config.smtpUrl) return {};
    const dir = resolve(this.config.outboxDir);
    // Colons in the ISO time would make the file unusable on Windows checkouts and in zips.
    const file = join(dir, `${new Date().toISOString().replace(/:/g, '-')}-${eventId.replace(/[^\w.-]/g, '_')}.eml`);
    await mkdir(dir, { recursive: true });
    await writeFile(file, info.message as Buffer);
    // The .eml is quoted-printable, which splits long links across lines; a developer needs them
    // whole. They carry live tokens, so only development ever logs them.
    if (this.app.runtime === 'development') {
      const links = actionLinks(mail.text, this.app.url);
      if (links.length) this.logger.log(`Links in ${file}: ${links.join(' ')}`);
    }
    return { file };
  }
}

/** The links of the plain-text part to our own pages (not the footer's bare APP_URL), each once, in order. */
function actionLinks(text: string, appUrl: string): string[] {
  const links = (text.match(/https?:\/\/[^\s<>"]+/g) ?? []).filter((link) => link.startsWith(`${appUrl}/`));
  return [...new Set(links)];
}
