// The consumer's tools, run the way a consumer runs them (both are ES modules, which jest's
// CommonJS registry cannot load): Redocly's recommended lint and openapi-typescript.
// Usage: node openapi-tools.mjs <document.json> <types.d.ts>. Writes the types, prints the lint
// problems as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';

const [documentPath, typesPath] = process.argv.slice(2);
const source = readFileSync(documentPath, 'utf8');
const problems = await lintFromString({ source, absoluteRef: documentPath, config: await createConfig({ extends: ['recommended'] }) });
writeFileSync(typesPath, astToString(await openapiTS(JSON.parse(source))));
const where = (problem) => problem.location?.[0]?.pointer ?? '';
process.stdout.write(JSON.stringify(problems.map((problem) => ({ rule: problem.ruleId, severity: problem.severity, message: problem.message, where: where(problem) }))));
