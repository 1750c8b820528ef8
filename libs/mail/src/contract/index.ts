// @accounts/mail/contract: what both sides of the mail queue agree on. No ORM, no SMTP.
export * from './mail.events';
export { PayloadSealer, PayloadSealError, type SealBinding } from './payload.sealer';
export { isSingleAddress, maskEmail } from './mail.address';
