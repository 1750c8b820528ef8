/** An RFC 9457 problem document with our stable machine-readable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
  /** MFA_REQUIRED only: the token of the sign-in's second step. */
  mfaToken?: string;
}

export function problem(status: number, code: string, title: string, detail?: string, errors?: Problem['errors']): Problem {
  return {
    type: `/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    code,
    ...(detail ? { detail } : {}),
    ...(errors ? { errors } : {}),
  };
}

/** Raised by the validation pipe; carries one entry per invalid field. */
export class ValidationFailedException extends Error {
  override readonly name = 'ValidationFailedException';
  constructor(readonly errors: Array<{ field: string; message: string }>) {
    super('The request body is invalid');
  }
}
