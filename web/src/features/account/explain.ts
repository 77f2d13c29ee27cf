// What to tell a person whose sign-in (or sign-up) was refused, by the API's code.
import type { Problem } from '../../lib/api';

/** What to tell the person, for each way a sign-in can be refused. */
export function explain(p: Problem): string {
  switch (p.code) {
    case 'rate_limited':
      return `Too many attempts. Wait ${p.retryAfter ?? 60} seconds, then try again.`;
    case 'ip_not_allowed':
      return 'Your organisation only allows sign-in from its own networks, and this address is not one of them. Connect through your office network or VPN, or ask an administrator.';
    case 'email_not_verified':
      return 'Confirm your e-mail address first: follow the link we sent you.';
    case 'invalid_code':
      return 'That code did not work. Enter the current 6-digit code from your app, or an unused recovery code.';
    case 'invalid_credentials':
    case 'unauthenticated':
      return 'Wrong e-mail or password. After several wrong attempts the account is locked for a while; an administrator can unlock it.';
    case 'validation_failed':
      return p.fields?.org ? 'Name your organisation: this server hosts several.' : p.message;
    default:
      return p.message;
  }
}
