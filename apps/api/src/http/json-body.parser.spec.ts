import type { FastifyRequest } from 'fastify';
import { ForbiddenJsonKeyError, MalformedJsonError, parseJsonBody } from './json-body.parser';

function parse(body: string): { error: Error | null; value?: unknown } {
  let outcome: { error: Error | null; value?: unknown } | undefined;
  parseJsonBody({} as FastifyRequest, body, (error, value) => {
    outcome = { error, value };
  });
  return outcome!;
}

describe('the API JSON body parser', () => {
  it('parses JSON, ignoring a leading BOM, and keeps harmless keys named constructor', () => {
    expect(parse('{"email":"a@example.com"}')).toEqual({ error: null, value: { email: 'a@example.com' } });
    expect(parse('\ufeff{"a":1}')).toEqual({ error: null, value: { a: 1 } });
    expect(parse('{"constructor":"x","b":{"constructor":{"name":"y"}}}').error).toBeNull();
  });

  it('takes an empty body for no body', () => {
    expect(parse('')).toEqual({ error: null, value: undefined });
  });

  it('refuses what does not parse as malformed', () => {
    for (const body of [' ', '\ufeff', '{', '{"a":1}{', "{'a':1}", '\ufeff{}x']) expect(parse(body).error).toBeInstanceOf(MalformedJsonError);
  });

  it('names a prototype key wherever it is, however it is escaped, and never a value', () => {
    const cases: Array<[string, string]> = [
      ['{"__proto__":{"admin":true}}', '__proto__'],
      ['{"a":[1,{"b":{"\\u005f_proto__":"secret-value"}}]}', '__proto__'],
      ['{"constructor":{"prototype":{"admin":true}}}', 'constructor.prototype'],
      ['[{"x":{"constructor":{"prototype":"secret-value"}}}]', 'constructor.prototype'],
      [`${'['.repeat(5000)}{"__proto__":1}${']'.repeat(5000)}`, '__proto__'],
    ];
    for (const [body, key] of cases) {
      const { error } = parse(body);
      expect(error).toBeInstanceOf(ForbiddenJsonKeyError);
      expect(error?.message).toContain(`"${key}"`);
      expect(error?.message).not.toContain('secret-value');
    }
  });
});
