import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIL_EVENT_NAMES } from '@accounts/mail/contract';
import { BUILT_IN_TEMPLATES_DIR, MailRenderer, previewMail, runPreviewCli, TemplateError } from '@accounts/mail/delivery';

/** `npm run mail:preview`: every template rendered with sample data, overrides picked up without a rebuild. */
describe('ops: mail preview', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mail-preview-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('renders every event to HTML and text files with links under APP_URL, and an index to open', async () => {
    const out = join(dir, 'out');
    const previews = await previewMail({ outDir: out, appName: 'Acme', appUrl: 'https://accounts.acme.test/' });
    expect([...new Set(previews.map((p) => p.event))]).toEqual([...MAIL_EVENT_NAMES]);
    // Both cases of the events whose template says two things.
    const variants = ['user.registered.confirm', 'email.confirmation-requested.choose-password', 'password.changed.reset', 'mfa.recovery-code-used.last'];
    expect(previews.filter((p) => p.variant).map((p) => `${p.event}.${p.variant}`)).toEqual(variants);
    const names = [...MAIL_EVENT_NAMES, ...variants];
    expect((await readdir(out)).sort()).toEqual(['index.html', ...names.flatMap((name) => [`${name}.html`, `${name}.txt`])].sort());
    const welcome = await readFile(join(out, 'user.registered.txt'), 'utf8');
    const confirm = await readFile(join(out, 'user.registered.confirm.txt'), 'utf8');
    expect(welcome).not.toContain('/confirm-email?token=');
    expect(confirm).toContain('https://accounts.acme.test/confirm-email?token=sample-confirmation-token');

    const reset = previews.find((p) => p.event === 'password.reset-requested')!;
    expect(reset.subject).toBe('Reset your Acme password');
    const html = await readFile(reset.htmlFile, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('href="https://accounts.acme.test/reset-password?token=sample-reset-token"');
    const text = await readFile(reset.textFile, 'utf8');
    expect(text).toMatch(/^Subject: Reset your Acme password\nTo: ada@example\.com\n\nHi Ada Lovelace,/);

    const index = await readFile(join(out, 'index.html'), 'utf8');
    for (const name of names) expect(index).toContain(`href="${name}.html"`);
  });

  it('uses the templates of MAIL_TEMPLATES_DIR over the built-in ones, file by file, without a rebuild', async () => {
    const overrides = join(dir, 'templates');
    await mkdir(join(overrides, 'layouts'), { recursive: true });
    const builtIn = await readFile(join(BUILT_IN_TEMPLATES_DIR, 'password.changed.hbs'), 'utf8');
    await writeFile(join(overrides, 'password.changed.hbs'), builtIn.replace('If it was you, there is nothing else to do.', 'Overridden: call the help desk.'));
    const layout = await readFile(join(BUILT_IN_TEMPLATES_DIR, 'layouts', 'text.hbs'), 'utf8');
    await writeFile(join(overrides, 'layouts', 'text.hbs'), `${layout}\nOverridden footer.`);

    const previews = await previewMail({ outDir: join(dir, 'out'), templatesDir: overrides, appName: 'Acme', appUrl: 'https://accounts.acme.test' });
    const changed = await readFile(previews.find((p) => p.event === 'password.changed')!.textFile, 'utf8');
    expect(changed).toContain('Overridden: call the help desk.');
    expect(changed).not.toContain('If it was you, there is nothing else to do.');
    expect(changed).toContain('Overridden footer.');
    // Events without an override come from the build, inside the overridden layout.
    const registered = await readFile(previews.find((p) => p.event === 'user.registered')!.textFile, 'utf8');
    expect(registered).toContain('Overridden footer.');

    // The worker reads the same overrides.
    const renderer = new MailRenderer({ overrideDir: overrides });
    expect(renderer.sources['password.changed.hbs']).toBe(join(overrides, 'password.changed.hbs'));
    expect(renderer.sources['user.registered.hbs']).toBe(join(BUILT_IN_TEMPLATES_DIR, 'user.registered.hbs'));
  });

  it('npm run mail:preview renders from the template sources in development, so an edit needs no build', async () => {
    const root = join(__dirname, '..', '..');
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'mail-preview.js'), 'password.reset-requested', '--out', dir], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'development' },
      encoding: 'utf8',
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toContain(`Templates: ${join('libs', 'mail', 'src', 'delivery', 'templates')}\n`);
    expect(await readFile(join(dir, 'password.reset-requested.txt'), 'utf8')).toMatch(/^Subject: Reset your Accounts password\n/);
  });

  it('refuses a broken override at once, naming its file', async () => {
    await mkdir(join(dir, 'layouts'), { recursive: true });
    await writeFile(join(dir, 'layouts', 'html.hbs'), '<html>{{#if}}</html>');
    expect(() => new MailRenderer({ overrideDir: dir })).toThrow(new RegExp(`^${join(dir, 'layouts', 'html.hbs')}: Parse error on line 1: Expecting`));
    expect(() => new MailRenderer({ overrideDir: dir })).toThrow(TemplateError);
  });

  it('renders one event when asked, and refuses an unknown one with one line', async () => {
    const lines: string[] = [];
    expect(await runPreviewCli(['password.changed', '--out', dir], (line) => lines.push(line))).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['password.changed.html', 'password.changed.reset.html', 'password.changed.reset.txt', 'password.changed.txt']);
    expect(lines[0]).toMatch(/^password\.changed: "Your Accounts password was changed" -> /);
    expect(lines[1]).toMatch(/^password\.changed \(reset\): "Your Accounts password was changed" -> /);

    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runPreviewCli(['no.such-event', '--out', dir], () => undefined)).toBe(1);
      expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^mail:preview: unknown event "no\.such-event"; one of: user\.registered, /));
    } finally {
      stderr.mockRestore();
    }
  });
});
