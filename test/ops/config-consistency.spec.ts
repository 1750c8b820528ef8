import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CONFIG_VARIABLE_PATTERNS, CONFIG_VARIABLES } from '@accounts/config';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const SOURCES = {
  registry: 'the registry (libs/config/src/config-variables.ts)',
  envExample: '.env.example',
  readme: 'the README table under "## Configuration"',
  code: 'the config readers (libs/config/src, process.env in apps/ and libs/)',
} as const;
type Source = keyof typeof SOURCES;

/** `NAME=value` lines, and `# NAME=value` for a variable documented but left unset. */
function envExampleNames(): string[] {
  return [...read('.env.example').matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]);
}

/** The README's configuration table: every `NAME` in the first cell of each row (one row may name several). */
function readmeRows(): Array<{ names: string[]; usedBy: string }> {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Configuration\n');
  if (start === -1) throw new Error('README.md has no "## Configuration" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => /^\|\s*`/.test(line))
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim());
      return { names: [...cells[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]), usedBy: cells[3] };
    });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !/\.(spec|e2e-spec)\.ts$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** Variables the code reads: through the Env readers of libs/config, or process.env anywhere in apps/ and libs/. */
function namesReadByCode(): string[] {
  const names = new Set<string>();
  for (const file of sourceFiles('libs/config/src').filter((path) => !path.endsWith('config-variables.ts'))) {
    const source = read(file);
    const readers = /\b(?:raw|string|optionalString|int|optionalInt|bool|duration|url|oneOf|list|secret|limit|base64Key)\(\s*(?:env,\s*)?'([A-Z][A-Z0-9_]+)'/g;
    for (const match of source.matchAll(readers)) names.add(match[1]);
  }
  for (const file of [...sourceFiles('apps'), ...sourceFiles('libs')]) {
    for (const match of read(file).matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]+)|\[\s*'([A-Z][A-Z0-9_]+)'\s*\])/g)) names.add(match[1] ?? match[2]);
  }
  return [...names];
}

function duplicates(names: string[]): string[] {
  return [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
}

describe('ops: one list of configuration variables', () => {
  const lists: Record<Source, string[]> = {
    registry: CONFIG_VARIABLES.map((variable) => variable.name),
    envExample: envExampleNames(),
    readme: readmeRows().flatMap((row) => row.names),
    code: namesReadByCode(),
  };

  it('names every variable in the registry, .env.example, the README table and the code alike', () => {
    const all = [...new Set(Object.values(lists).flat())].sort();
    const problems = all.flatMap((name) => {
      const missing = (Object.keys(lists) as Source[]).filter((source) => !lists[source].includes(name));
      return missing.length === 0 ? [] : [`${name} is missing from ${missing.map((source) => SOURCES[source]).join(' and ')}`];
    });
    expect(problems).toEqual([]);
  });

  it('lists each variable once per place', () => {
    const problems = (['registry', 'envExample', 'readme'] as const).flatMap((source) =>
      duplicates(lists[source]).map((name) => `${name} appears more than once in ${SOURCES[source]}`),
    );
    expect(problems).toEqual([]);
  });

  it('documents each family of variables (OIDC_<ID>_*) in the README table and .env.example', () => {
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('\n## Configuration\n'));
    const envExample = read('.env.example');
    const problems = CONFIG_VARIABLE_PATTERNS.flatMap(({ name }) => [
      ...(table.includes(`\`${name}\``) ? [] : [`${name} is missing from ${SOURCES.readme}`]),
      ...(envExample.includes(name) ? [] : [`${name} is missing from .env.example`]),
    ]);
    expect(problems).toEqual([]);
  });

  it("says in the README which process reads each variable, as the registry does", () => {
    const processes = new Map(CONFIG_VARIABLES.map((variable) => [variable.name, variable.processes]));
    const expected = (name: string) => {
      const readers = processes.get(name) ?? [];
      return readers.length === 2 ? 'both' : readers[0];
    };
    const problems = readmeRows().flatMap((row) =>
      row.names.filter((name) => processes.has(name) && row.usedBy !== expected(name)).map((name) => `${name}: the README says "${row.usedBy}", the registry "${expected(name)}"`),
    );
    expect(problems).toEqual([]);
  });
});
