/** What the typed client run (../typed-client.ts) needs from the test around it. */
export interface ClientRunContext {
  baseUrl: string;
  /** The fetch every request goes through (the test records the responses). */
  fetch: (request: Request) => Promise<Response>;
  email: string;
  passwords: [string, string, string];
  /** The token of the next password-reset email to `email`. */
  resetToken(email: string): Promise<string>;
  /** The TOTP code of a base32 secret, `offsetSteps` 30-second steps from now (what an authenticator app shows). */
  totpCode(secret: string, offsetSteps?: number): string;
}

/** One line per step, for the test to compare. */
export type ClientRunLog = string[];

export type DriveEveryOperation = (context: ClientRunContext) => Promise<ClientRunLog>;
