import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The dependency picture of README "Architecture", checked on the sources: which part may import
 * which, no lib imports an app, and no import cycle between files. A part is an app, a lib, or one
 * of the mail lib's three entry points.
 */
const ROOT = resolve(__dirname, '..', '..');

const ALLOWED: Record<string, string[]> = {
  config: [],
  database: ['config'],
  redis: ['config'],
  users: ['config', 'database'],
  tokens: ['config', 'database', 'users'],
  auth: ['config', 'database', 'redis', 'users', 'tokens', 'mail/contract', 'mail/outbox'],
  'mail/contract': ['config'],
  'mail/outbox': ['config', 'database', 'redis', 'mail/contract'],
  'mail/delivery': ['config', 'mail/contract'],
  // Controllers map the domain errors of auth and tokens; health and the dashboard read the queue.
  'apps/api': ['config', 'database', 'redis', 'users', 'tokens', 'auth', 'mail/contract', 'mail/outbox'],
  // No ORM, no database: the worker reads the contract and delivers.
  'apps/mail-worker': ['config', 'redis', 'mail/contract', 'mail/delivery'],
};

/** Every source file of the apps and libs (tests excluded), relative to the root. */
function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !/\.(spec|e2e-spec)\.ts$/.test(entry.name)) files.push(relative(ROOT, full));
    }
  };
  for (const top of ['apps', 'libs']) {
    for (const project of readdirSync(join(ROOT, top))) walk(join(ROOT, top, project, 'src'));
  }
  return files;
}

function partOf(file: string): string {
  const [top, project, , section] = file.split('/');
  if (top === 'apps') return `apps/${project}`;
  return project === 'mail' ? `mail/${section}` : project;
}

/** The files `file` imports at run time (`import type` is erased): aliases to their entry point's index, relative paths resolved. */
function importsOf(file: string, known: Set<string>): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)(?!\s+type\b)\b[^'";]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|\brequire\(\s*'([^']+)'\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3],
  );
  const targets: string[] = [];
  for (const specifier of specifiers) {
    let base: string | undefined;
    const alias = /^@accounts\/([a-z]+)(?:\/([a-z]+))?$/.exec(specifier);
    if (alias) base = join('libs', alias[1], 'src', alias[2] ?? '');
    else if (specifier.startsWith('.')) base = join(dirname(file), specifier);
    if (base === undefined) continue;
    const target = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => known.has(candidate));
    if (!target) throw new Error(`${file}: cannot resolve '${specifier}'`);
    targets.push(target);
  }
  return targets;
}

describe('architecture: the import graph', () => {
  const files = sources();
  const known = new Set(files);
  const graph = new Map(files.map((file) => [file, importsOf(file, known)]));

  it('lets each part import only the parts the architecture allows (no lib imports an app)', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = partOf(file);
      for (const target of targets) {
        const to = partOf(target);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to)) violations.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('loads no ORM and no database driver in the mail worker, directly or through a lib', () => {
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const target of graph.get(file) ?? []) visit(target);
    };
    for (const file of files.filter((f) => f.startsWith('apps/mail-worker/'))) visit(file);
    const database = [...reached].filter((file) => /(?:from|import|require\()\s*'(@mikro-orm\/[^']+|pg)'/.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(database).toEqual([]);
  });

  it('knows every part it finds', () => {
    expect([...new Set(files.map(partOf))].filter((part) => !(part in ALLOWED))).toEqual([]);
  });
});
