import { ApiProperty } from '@nestjs/swagger';
import { ValidateIf } from 'class-validator';
import { IsDisplayName } from '../../auth/dto/field-rules.decorators';

export class UpdateProfileDto {
  @ApiProperty({ type: String, nullable: true, minLength: 1, maxLength: 100, example: 'Ada', description: 'The display name; `null` clears it' })
  @ValidateIf((body: UpdateProfileDto) => body.name !== null)
  @IsDisplayName()
  name: string | null;
}
