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
        content: {
          'application/problem+json': {
            schema: {
              allOf: [
                { $ref: getSchemaPath(ProblemDocument) },
                { type: 'object', required: ['status', 'code'], properties: { status: { type: 'integer', enum: [status] }, code: { type: 'string', enum: codes } } },
              ],
            },
          },
        },
        ...(status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } } } : {}),
      }),
    ),
  );
}
