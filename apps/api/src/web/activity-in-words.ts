import type { ActivityType, ActivityView } from '@accounts/users';

/** What each activity type means to the account's owner; a type missing here does not compile. */
export const ACTIVITY_IN_WORDS: Record<ActivityType, string> = {
  'signin.succeeded': 'Signed in',
  'signin.failed': 'Failed sign-in (wrong password)',
  'signin.mfa_failed': 'Failed sign-in (wrong code)',
  'password.changed': 'Password changed',
  'password.reset': 'Password reset with an emailed link',
  'email.change_requested': 'Email change requested',
  'email.changed': 'Email address changed',
  'email.change_undone': 'Email change undone',
  'session.revoked': 'Signed out of a session',
  'sessions.revoked_all': 'Signed out everywhere',
  'mfa.enabled': 'Two-step sign-in turned on',
  'mfa.disabled': 'Two-step sign-in turned off',
  'mfa.recovery_code_used': 'Recovery code used',
  'identity.linked': 'Sign-in provider linked',
  'identity.unlinked': 'Sign-in provider unlinked',
};

/** A row of "Recent activity" on /account; the view escapes every value. */
export function activityInWords(row: ActivityView): { what: string; when: string; ip: string | null; userAgent: string | null } {
  return { what: ACTIVITY_IN_WORDS[row.type], when: `${row.at.slice(0, 16).replace('T', ' ')} UTC`, ip: row.ip, userAgent: row.userAgent };
}
