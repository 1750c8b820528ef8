import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { MAIL_EVENT_NAMES, type MailEventName } from '../contract';

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

export interface MailRendererOptions {
  /**
   * A directory whose files shadow the built-in templates path by path (`<event>.hbs`,
   * `layouts/html.hbs`, `layouts/text.hbs`); files it lacks come from the build. MAIL_TEMPLATES_DIR.
   */
  overrideDir?: string;
}

/** A template that cannot be parsed; the message names its file. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Copied next to the compiled renderer by the build (nest-cli.json assets). */
export const BUILT_IN_TEMPLATES_DIR = join(__dirname, 'templates');

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
  /** The file each template was read from, by its path relative to a templates directory. */
  readonly sources: Record<string, string> = {};

  constructor(private readonly options: MailRendererOptions = {}) {
    const environments = {
      html: createEnvironment('html', this.read('layouts/html.hbs')),
      text: createEnvironment('text', this.read('layouts/text.hbs')),
      subject: createEnvironment('subject', '{{> subject}}'),
    };
    for (const name of MAIL_EVENT_NAMES) {
      const source = this.read(`${name}.hbs`);
      this.templates.set(name, {
        html: environments.html.compile(source, { strict: true }),
        text: environments.text.compile(source, { strict: true, noEscape: true }),
        subject: environments.subject.compile(source, { strict: true, noEscape: true }),
      });
    }
  }

  /**
   * The override when there is one, else the built-in file. compile() is lazy; parsing here turns a
   * broken template (an override above all) into a start-up failure naming its file, not failed jobs.
   */
  private read(path: string): string {
    const override = this.options.overrideDir === undefined ? undefined : join(this.options.overrideDir, path);
    const file = override !== undefined && existsSync(override) ? override : join(BUILT_IN_TEMPLATES_DIR, path);
    this.sources[path] = file;
    const source = readFileSync(file, 'utf8');
    try {
      Handlebars.parse(source);
    } catch (error) {
      // Handlebars puts the place on the first line and what it expected on the last.
      const lines = (error as Error).message.split('\n');
      throw new TemplateError(`${file}: ${lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : lines[0]}`);
    }
    return source;
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
  // Registered compiled: a partial given as source is recompiled on every render (the templates'
  // inline `subject` partial defeats Handlebars' cache), which was a quarter of the worker's time.
  hbs.registerPartial('layout', hbs.compile(layout, mode === 'html' ? { strict: true } : { strict: true, noEscape: true }));
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
