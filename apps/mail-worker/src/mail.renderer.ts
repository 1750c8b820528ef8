import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { MAIL_EVENT_NAMES, type MailEventName } from '@accounts/mail';

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

/** What every template may use; each event adds its own links and flags. */
export interface TemplateContext {
  appName: string;
  appUrl: string;
  name: string | null;
  email: string;
  [key: string]: unknown;
}

type Mode = 'html' | 'text' | 'subject';

/** Copied next to the compiled renderer by the build (nest-cli.json assets). */
const TEMPLATES_DIR = join(__dirname, 'templates');

const STYLE = {
  paragraph: 'margin:0 0 16px;',
  button:
    'display:inline-block;padding:12px 24px;border-radius:6px;background-color:#2454d6;color:#ffffff;font-weight:600;text-decoration:none;',
  fallback: 'margin:0 0 16px;font-size:13px;color:#616e7c;',
  fallbackLink: 'color:#2454d6;word-break:break-all;',
};

/**
 * Renders one template per event into a subject, an HTML part and a plain-text part. Each
 * template is compiled in three Handlebars environments that differ in escaping, in what the
 * `layout` partial is, and in how the `paragraph` and `button` helpers print, so a template is
 * written once for all three parts.
 */
@Injectable()
export class MailRenderer {
  private readonly templates = new Map<MailEventName, Record<Mode, Handlebars.TemplateDelegate>>();

  constructor() {
    const environments = {
      html: createEnvironment('html', readFileSync(join(TEMPLATES_DIR, 'layouts', 'html.hbs'), 'utf8')),
      text: createEnvironment('text', readFileSync(join(TEMPLATES_DIR, 'layouts', 'text.hbs'), 'utf8')),
      subject: createEnvironment('subject', '{{> subject}}'),
    };
    for (const name of MAIL_EVENT_NAMES) {
      const source = readFileSync(join(TEMPLATES_DIR, `${name}.hbs`), 'utf8');
      // compile() is lazy; parsing now turns a broken template into a start-up failure, not a failed job.
      Handlebars.parse(source);
      this.templates.set(name, {
        html: environments.html.compile(source, { strict: true }),
        text: environments.text.compile(source, { strict: true, noEscape: true }),
        subject: environments.subject.compile(source, { strict: true, noEscape: true }),
      });
    }
  }

  render(name: MailEventName, context: TemplateContext): RenderedMail {
    const template = this.templates.get(name);
    if (!template) throw new Error(`No mail template for ${name}`);
    return {
      // Control characters (CR/LF above all) must never reach a header.
      subject: template.subject(context).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim(),
      html: template.html(context).trim(),
      text: tidyText(template.text(context)),
    };
  }
}

function createEnvironment(mode: Mode, layout: string): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerPartial('layout', layout);
  hbs.registerHelper('paragraph', function (this: unknown, options: Handlebars.HelperOptions) {
    const content: string = options.fn(this);
    if (mode === 'html') return new hbs.SafeString(`<p style="${STYLE.paragraph}">${content.trim()}</p>`);
    return `\n\n${content.replace(/\s+/g, ' ').trim()}\n\n`;
  });
  hbs.registerHelper('button', (url: unknown, label: unknown) => {
    const text = String(label);
    // Also catches a link the template names but the composer did not set (undefined).
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw new Error(`button "${text}": the url must be http(s)`);
    if (mode !== 'html') return `\n\n${text}:\n${url}\n\n`;
    // Handlebars' own escaping also encodes "=", which some mail clients leave in a link as "&#x3D;".
    const href = escapeAttribute(url);
    return new hbs.SafeString(
      `<p style="margin:24px 0;"><a href="${href}" style="${STYLE.button}">${hbs.escapeExpression(text)}</a></p>` +
        `<p style="${STYLE.fallback}">If the button does not work, copy this link into your browser:<br>` +
        `<a href="${href}" style="${STYLE.fallbackLink}">${href}</a></p>`,
    );
  });
  return hbs;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Template indentation and helper spacing out, at most one blank line between paragraphs. */
function tidyText(text: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}
