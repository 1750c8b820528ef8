import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';

/** The largest id a bigint column holds; a cursor beyond it names no row. */
const MAX_CURSOR = 9223372036854775807n;

/** A row id as `next` gives it: a positive bigint, written without a sign or leading zeros. */
function isCursor(value: unknown): boolean {
  return typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= MAX_CURSOR;
}

/** A query value of digits only, read as a number; anything else stays as sent, for the validators to refuse. */
const asInteger = ({ value }: { value: unknown }) => (typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : value);

export class ActivityQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'How many rows, newest first' })
  @IsOptional()
  @Transform(asInteger)
  @IsInt({ message: 'limit must be a whole number from 1 to 100' })
  @Min(1, { message: 'limit must be a whole number from 1 to 100' })
  @Max(100, { message: 'limit must be a whole number from 1 to 100' })
  limit?: number;

  @ApiPropertyOptional({ pattern: '^[1-9][0-9]{0,18}$', description: 'The `next` of the previous page: rows older than it' })
  @IsOptional()
  @ValidateBy({ name: 'isCursor', validator: { validate: isCursor } }, { message: 'before must be the `next` of a previous page' })
  before?: string;
}
