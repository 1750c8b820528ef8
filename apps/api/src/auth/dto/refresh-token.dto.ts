import { IsOpaqueToken } from './field-rules';

/** Body of refresh and logout. */
export class RefreshTokenDto {
  @IsOpaqueToken()
  refreshToken: string;
}
