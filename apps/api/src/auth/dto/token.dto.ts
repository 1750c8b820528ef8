import { IsOpaqueToken } from './field-rules';

export class TokenDto {
  @IsOpaqueToken()
  token: string;
}
