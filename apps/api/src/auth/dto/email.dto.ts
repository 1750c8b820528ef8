import { IsAccountEmail } from './field-rules';

/** Body of forgot-password and resend-confirmation. */
export class EmailDto {
  @IsAccountEmail()
  email: string;
}
