import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';

export class ProblemFieldError {
  @ApiProperty({ example: 'email' })
  field: string;

  @ApiProperty({ example: 'email must be an email address' })
  message: string;
}

/** An RFC 9457 problem document, as every error of the API is sent (`application/problem+json`). */
export class ProblemDocument {
  @ApiProperty({ example: '/problems/validation-failed' })
  type: string;

  @ApiProperty({ example: 'Validation failed' })
  title: string;

  @ApiProperty({ type: 'integer', example: 400 })
  status: number;

  @ApiProperty({ description: 'Stable machine-readable code; each response lists the codes it can carry', example: 'VALIDATION_FAILED' })
  code: string;

  @ApiPropertyOptional({ example: 'The request body is invalid' })
  detail?: string;

  @ApiPropertyOptional({ type: [ProblemFieldError], description: 'One entry per invalid field (VALIDATION_FAILED only)' })
  errors?: ProblemFieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  414: 'URI too long',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

/** What any operation can answer when something unexpected fails; the cause is logged, never sent. */
export const SERVER_PROBLEMS = { 500: ['INTERNAL_ERROR'] } as const;

/** Problems any JSON body can cause, before the endpoint's own rules. */
export const BODY_PROBLEMS = {
  400: ['MALFORMED_REQUEST', 'FORBIDDEN_KEY', 'VALIDATION_FAILED'],
  413: ['PAYLOAD_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
} as const;

type ProblemMap = Partial<Record<keyof typeof TITLES, readonly string[]>>;

/**
 * Extension members (RFC 9457 §3.2) some codes carry, always present with that code. A response
 * whose codes include one is documented as a oneOf, so a generated client that narrows on `code`
 * sees the member typed.
 */
const PROBLEM_EXTENSIONS: Record<string, Record<string, { type: 'string'; description: string }>> = {
  MFA_REQUIRED: {
    mfaToken: {
      type: 'string',
      description: 'Finishes the sign-in at POST /api/v1/auth/login/mfa with a code: single use, valid 5 minutes, at most 5 code attempts. Not an access or refresh token.',
    },
  },
};

/** The schema of one status's problem documents: the codes without extension members together, one part per code with them. */
function problemSchema(status: number, codes: string[]) {
  const part = (enumCodes: string[], extension: Record<string, unknown> = {}) => ({
    allOf: [
      { $ref: getSchemaPath(ProblemDocument) },
      {
        type: 'object',
        required: ['status', 'code', ...Object.keys(extension)],
        properties: { status: { type: 'integer', enum: [status] }, code: { type: 'string', enum: enumCodes }, ...extension },
      },
    ],
  });
  const plain = codes.filter((code) => !PROBLEM_EXTENSIONS[code]);
  const extended = codes.filter((code) => PROBLEM_EXTENSIONS[code]);
  if (extended.length === 0) return part(plain);
  return { oneOf: [...(plain.length ? [part(plain)] : []), ...extended.map((code) => part([code], PROBLEM_EXTENSIONS[code]))] };
}

/**
 * Documents the problem documents an endpoint answers with, one response per status whose
 * description lists the codes (`ApiProblems({ 400: ['INVALID_TOKEN'], 429: ['TOO_MANY_REQUESTS'] })`).
 * Several maps are merged, codes of the same status joined. Each response narrows `status` and
 * `code` to its own values, so generated clients can switch on the code exhaustively.
 */
export function ApiProblems(...maps: ProblemMap[]) {
  const merged = new Map<number, string[]>();
  for (const map of maps) {
    for (const [status, codes] of Object.entries(map)) {
      merged.set(Number(status), [...new Set([...(merged.get(Number(status)) ?? []), ...(codes ?? [])])]);
    }
  }
  return applyDecorators(
    ApiExtraModels(ProblemDocument),
    ...[...merged].map(([status, codes]) =>
      ApiResponse({
        status,
        description: `${TITLES[status] ?? 'Problem'}: ${codes.map((code) => `\`${code}\``).join(', ')}`,
        content: { 'application/problem+json': { schema: problemSchema(status, codes) } },
        ...(status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } } } : {}),
      }),
    ),
  );
}
