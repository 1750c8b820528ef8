import type { ReceivedMail } from './smtp-sink';
import { nextMail, type Account, type Session } from './security';
import type { Stack } from './stack';

const LINK = /https?:\/\/[^\s"'<>]+\/(confirm-email-change|undo-email-change|reset-password)\?token=([A-Za-z0-9_%-]+)/;

/** The email change, undo or reset link a message carries (from its text part), and its token. */
export function changeLinkIn(mail: ReceivedMail): { url: URL; token: string } {
  const match = LINK.exec(mail.text);
  if (!match) throw new Error(`No email change link in mail "${mail.subject}": ${mail.text}`);
  const url = new URL(match[0]);
  return { url, token: url.searchParams.get('token')! };
}

export const SUBJECTS = {
  requested: /confirm your new email address/i,
  attempted: /tried to move an account/i,
  changed: /email address of your .* was changed/i,
  reset: /reset your/i,
};

/** Asks to move `account` to `newEmail` and returns the token mailed there. */
export async function requestChangeToken(stack: Stack, account: Account, session: Session, newEmail: string): Promise<string> {
  const mail = nextMail(stack.sink, newEmail, SUBJECTS.requested, 15_000);
  const asked = await stack.api.post('/users/me/email', { newEmail, currentPassword: account.password }, session.accessToken);
  if (asked.status !== 202) throw new Error(`email change ${account.email}: ${asked.status} ${JSON.stringify(asked.body)}`);
  return changeLinkIn(await mail).token;
}

/** Moves `account` to `newEmail` through the mailed link and returns the undo token mailed to the old address. */
export async function changeEmail(stack: Stack, account: Account, session: Session, newEmail: string): Promise<string> {
  const token = await requestChangeToken(stack, account, session, newEmail);
  const undoMail = nextMail(stack.sink, account.email, SUBJECTS.changed, 15_000);
  const confirmed = await stack.api.post('/auth/email/change/confirm', { token });
  if (confirmed.status !== 200) throw new Error(`confirm change ${account.email}: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return changeLinkIn(await undoMail).token;
}
