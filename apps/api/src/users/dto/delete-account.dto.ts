import { IsCurrentPasswordField } from '../../auth/dto/field-rules.decorators';

/** Body of DELETE /users/me: `{}` from an account without a password. */
export class DeleteAccountDto {
  @IsCurrentPasswordField()
  currentPassword?: string;
}
