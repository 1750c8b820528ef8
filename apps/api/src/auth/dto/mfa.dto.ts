import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsCurrentPasswordField, IsOpaqueToken } from './field-rules.decorators';

/** A TOTP or recovery code as typed: spaces are dropped; its correctness is the service's to judge. */
function IsMfaCode() {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.replace(/\s/g, '') : value)),
    IsString(),
    IsNotEmpty(),
    MaxLength(64),
  );
}

const TOTP_CODE = { example: '123456', description: 'The 6-digit code the authenticator app shows now' };
const EITHER_CODE = {
  example: '123456',
  description: 'A 6-digit code from the authenticator app, or an unused recovery code (`xxxx-xxxx-xxxx`)',
};

export class MfaSetupDto {
  @IsCurrentPasswordField()
  currentPassword?: string;
}

export class MfaEnableDto {
  @ApiProperty(TOTP_CODE)
  @IsMfaCode()
  code: string;
}

/** Disabling MFA and replacing the recovery codes: re-authentication and a code (or a recovery code). */
export class MfaReauthenticationDto {
  @IsCurrentPasswordField()
  currentPassword?: string;

  @ApiProperty(EITHER_CODE)
  @IsMfaCode()
  code: string;
}

/** The second step of a sign-in: exactly one of `code` and `recoveryCode`. */
export class LoginMfaDto {
  @ApiProperty({ description: 'The `mfaToken` of the MFA_REQUIRED answer to /auth/login' })
  @IsOpaqueToken()
  mfaToken: string;

  @ApiPropertyOptional(TOTP_CODE)
  @IsOptional()
  @IsMfaCode()
  code?: string;

  @ApiPropertyOptional({ example: 'k3m9-x2pq-7vd4', description: 'An unused recovery code, instead of `code`' })
  @IsOptional()
  @IsMfaCode()
  recoveryCode?: string;
}

export class TotpSetupResponse {
  @ApiProperty({ description: 'The TOTP secret, base32, for manual entry in an authenticator app', example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' })
  secret: string;

  @ApiProperty({ description: 'The same secret as an `otpauth://totp/…` URL (SHA-1, 6 digits, 30 s)' })
  otpauthUrl: string;

  @ApiProperty({ description: 'The QR code of `otpauthUrl`, as SVG markup (no script or style attribute)' })
  qrSvg: string;
}

const RECOVERY_CODES_EXAMPLE = ['k3m9-x2pq-7vd4', '8h2c-wq4n-zt6e', 'p0ry-5m3k-d9xa', 'f7vj-2bzq-6nt1', 'g4sm-x8pe-3rkw', 'a1d9-ctq5-y7hm', 'w6zn-4evk-2pb8', 'r3xt-9hja-5qc0', 'm8kp-6wd2-vx4z', 'e5gy-1nsr-7tbq'];

export class RecoveryCodesResponse {
  @ApiProperty({ type: [String], minItems: 10, maxItems: 10, description: 'Shown once: each signs in once instead of a TOTP code', example: RECOVERY_CODES_EXAMPLE })
  recoveryCodes: string[];
}
