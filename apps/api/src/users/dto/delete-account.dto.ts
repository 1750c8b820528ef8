import { ApiProperty } from '@nestjs/swagger';
import { IsPasswordField } from '../../auth/dto/field-rules.decorators';

export class DeleteAccountDto {
  @ApiProperty({ format: 'password', description: 'The password in use now' })
  @IsPasswordField()
  currentPassword: string;
}
