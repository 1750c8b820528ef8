import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ValidationFailedException } from './problem.document';

/** Every body we accept is an object of strings; anything deeper than this is refused unread. */
export const MAX_BODY_DEPTH = 8;

function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * The top-level field whose value nests deeper than `max` levels ('' for the value itself), or
 * undefined. Iterative: a 16 KiB body can nest thousands of levels, which would overflow the stack
 * of any recursive walk (class-transformer's and class-validator's included).
 */
export function tooDeeplyNested(value: unknown, max = MAX_BODY_DEPTH): string | undefined {
  const pending: Array<{ node: unknown; depth: number; field: string }> = [{ node: value, depth: 0, field: '' }];
  while (pending.length > 0) {
    const { node, depth, field } = pending.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) return field;
    for (const [key, child] of Object.entries(node)) {
      pending.push({ node: child, depth: depth + 1, field: depth === 0 && !Array.isArray(node) ? key : field });
    }
  }
  return undefined;
}

/** ValidationPipe behind a depth check, so hostile nesting is a 400, never a stack overflow. */
class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const field = tooDeeplyNested(value);
    if (field !== undefined) {
      const name = field || metadata.type;
      throw new ValidationFailedException([{ field: name, message: `${name} is nested too deeply` }]);
    }
    return super.transform(value, metadata);
  }
}

/** The one validation step at the edge: unknown fields are refused, values never echoed. */
export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedException(flatten(errors)),
  });
}
