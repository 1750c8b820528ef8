import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { appConfig, ConfigError, configModuleFor, mailConfig } from '@accounts/config';
import { isMailEventName, MAIL_EVENT_NAMES, PayloadSealer, type MailEventName, type MailEventPayloads, type SealedToken } from '../contract';
import { MailComposer } from './mail.composer';
import { BUILT_IN_TEMPLATES_DIR, MailRenderer, TemplateError } from './mail.renderer';

export const DEFAULT_PREVIEW_DIR = 'var/mail-preview';

const USAGE = `Usage: npm run mail:preview -- [event] [--out dir]

Renders every mail template (or the one of [event]) with sample data into dir (default
${DEFAULT_PREVIEW_DIR}): <event>.html, <event>.txt and an index.html to open in a browser.
Templates in MAIL_TEMPLATES_DIR shadow the built-in ones, no rebuild needed.
Events: ${MAIL_EVENT_NAMES.join(', ')}`;

export interface PreviewOptions {
  /** One event; all of them when unset. */
  event?: string;
  outDir: string;
  /** MAIL_TEMPLATES_DIR: files there shadow the built-in templates. */
  templatesDir?: string;
  appName: string;
  appUrl: string;
}

export interface PreviewedMail {
  event: MailEventName;
  /** Which case of the event: a template may say different things (welcome or confirm, reset or change). */
  variant: string | undefined;
  subject: string;
  htmlFile: string;
  textFile: string;
}

/** The event asked for is not one the worker sends. */
export class UnknownEventError extends Error {
  override readonly name = 'UnknownEventError';
}

const recipient = { v: 1 as const, userId: '00000000-0000-4000-8000-000000000000', email: 'ada@example.com', name: 'Ada Lovelace' };

type Sample<N extends MailEventName> = { variant?: string; payload: (seal: (token: string) => SealedToken) => MailEventPayloads[N] };

/** Sample payloads, each case of each event: a new event without one does not compile. */
export const PREVIEW_SAMPLES: { [N in MailEventName]: Array<Sample<N>> } = {
  'user.registered': [
    { payload: () => ({ ...recipient, confirmationToken: null }) },
    { variant: 'confirm', payload: (seal) => ({ ...recipient, confirmationToken: seal('sample-confirmation-token') }) },
  ],
  'user.registration-attempted': [{ payload: () => ({ ...recipient }) }],
  'email.confirmation-requested': [
    { payload: (seal) => ({ ...recipient, confirmationToken: seal('sample-confirmation-token') }) },
    { variant: 'choose-password', payload: (seal) => ({ ...recipient, confirmationToken: seal('sample-confirmation-token'), choosePassword: true }) },
  ],
  'password.reset-requested': [{ payload: (seal) => ({ ...recipient, resetToken: seal('sample-reset-token') }) }],
  'password.changed': [
    { payload: () => ({ ...recipient, via: 'change' }) },
    { variant: 'reset', payload: () => ({ ...recipient, via: 'reset' }) },
  ],
  'email.change-requested': [{ payload: (seal) => ({ ...recipient, name: null, changeToken: seal('sample-email-change-token') }) }],
  'email.change-attempted': [{ payload: () => ({ ...recipient }) }],
  'email.changed': [{ payload: (seal) => ({ ...recipient, undoToken: seal('sample-undo-token') }) }],
  'user.deleted': [{ payload: () => ({ ...recipient, name: null }) }],
  'mfa.enabled': [{ payload: () => ({ ...recipient }) }],
  'mfa.disabled': [{ payload: () => ({ ...recipient }) }],
  'mfa.recovery-code-used': [
    { payload: () => ({ ...recipient, remaining: 9 }) },
    { variant: 'last', payload: () => ({ ...recipient, remaining: 0 }) },
  ],
  'identity.linked': [{ payload: () => ({ ...recipient, provider: 'Google' }) }],
};

/**
 * Renders the templates the way the worker does (same composer, links under APP_URL, tokens sealed
 * and opened with a throwaway key) and writes each message as HTML and text files.
 */
export async function previewMail(options: PreviewOptions): Promise<PreviewedMail[]> {
  const events = options.event === undefined ? [...MAIL_EVENT_NAMES] : [eventNamed(options.event)];
  const sealer = new PayloadSealer({ key: randomBytes(32) });
  const renderer = new MailRenderer({ overrideDir: options.templatesDir });
  const app = { runtime: 'development' as const, isProduction: false, name: options.appName, url: options.appUrl.replace(/\/+$/, ''), logLevel: 'info' as const };
  const composer = new MailComposer(app, sealer, renderer);
  await mkdir(options.outDir, { recursive: true });

  const previews: PreviewedMail[] = [];
  for (const event of events) {
    for (const sample of PREVIEW_SAMPLES[event] as Array<Sample<typeof event>>) {
      const name = sample.variant ? `${event}.${sample.variant}` : event;
      const eventId = `preview-${name}`;
      const mail = composer.compose(event, sample.payload((token) => sealer.seal(token, { eventId, userId: recipient.userId, email: recipient.email })), eventId);
      const htmlFile = join(options.outDir, `${name}.html`);
      const textFile = join(options.outDir, `${name}.txt`);
      await writeFile(htmlFile, mail.html);
      await writeFile(textFile, `Subject: ${mail.subject}\nTo: ${mail.to}\n\n${mail.text}`);
      previews.push({ event, variant: sample.variant, subject: mail.subject, htmlFile, textFile });
    }
  }
  if (options.event === undefined) await writeFile(join(options.outDir, 'index.html'), indexPage(previews, options));
  return previews;
}

function eventNamed(name: string): MailEventName {
  if (isMailEventName(name)) return name;
  throw new UnknownEventError(`unknown event "${name}"; one of: ${MAIL_EVENT_NAMES.join(', ')}`);
}

function indexPage(previews: PreviewedMail[], options: PreviewOptions): string {
  const rows = previews
    .map(
      (p) =>
        `<li><strong>${escape(p.event)}</strong>${p.variant ? ` (${escape(p.variant)})` : ''}: ${escape(p.subject)} ` +
        `(<a href="${escape(basename(p.htmlFile))}">HTML</a>, <a href="${escape(basename(p.textFile))}">text</a>)</li>`,
    )
    .join('\n');
  const source = options.templatesDir ? `built-in templates shadowed by ${escape(options.templatesDir)}` : 'built-in templates';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(options.appName)} mail preview</title></head>
<body style="font-family:system-ui,sans-serif;margin:32px;">
<h1>${escape(options.appName)} mail preview</h1>
<p>Sample data, ${source}. Re-run <code>npm run mail:preview</code> after editing a template.</p>
<ul>
${rows}
</ul>
</body></html>
`;
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A path as short as it can be said: relative below the working directory, absolute elsewhere. */
function shown(path: string): string {
  const below = relative(process.cwd(), path);
  return below.startsWith('..') || isAbsolute(below) ? path : below;
}

/** `npm run mail:preview -- [event] [--out dir]`; returns the exit code. */
export async function runPreviewCli(argv: string[], out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  const fail = (line: string) => {
    process.stderr.write(`mail:preview: ${line}\n`);
    return 1;
  };
  let event: string | undefined;
  let outDir = DEFAULT_PREVIEW_DIR;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      out(USAGE);
      return 0;
    }
    if (arg === '--out' || arg === '-o') {
      const dir = argv[++i];
      if (!dir) return fail('--out needs a directory');
      outDir = dir;
    } else if (arg.startsWith('--out=')) {
      outDir = arg.slice('--out='.length);
    } else if (arg.startsWith('-')) {
      return fail(`unknown option ${arg}\n\n${USAGE}`);
    } else if (event === undefined) {
      event = arg;
    } else {
      return fail(`one event at most (got "${event}" and "${arg}")`);
    }
  }
  try {
    // Reads .env in development, as the worker does.
    await configModuleFor([appConfig, mailConfig]);
    const app = appConfig();
    const { templatesDir } = mailConfig();
    const previews = await previewMail({ event, outDir: resolve(outDir), templatesDir, appName: app.name, appUrl: app.url });
    for (const preview of previews) {
      const name = preview.variant ? `${preview.event} (${preview.variant})` : preview.event;
      out(`${name}: "${preview.subject}" -> ${shown(preview.htmlFile)}, ${shown(preview.textFile)}`);
    }
    out(`Templates: ${shown(BUILT_IN_TEMPLATES_DIR)}${templatesDir ? `, shadowed by ${shown(templatesDir)}` : ''}`);
    if (event === undefined) out(`Open ${shown(join(resolve(outDir), 'index.html'))} in a browser.`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UnknownEventError || error instanceof TemplateError) return fail(error.message);
    throw error;
  }
}
