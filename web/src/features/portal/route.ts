// The help center's addresses: /help/{org}/ and the pages under it.
/** The help centre's pages, each at its own address under `/help/{org}/`. */
export type HelpPage =
  | { kind: 'home' }
  | { kind: 'article'; id: number }
  | { kind: 'sign-in' }
  | { kind: 'sign-up' }
  | { kind: 'forgot-password' }
  | { kind: 'reset-password' }
  | { kind: 'verify-email' }
  | { kind: 'requests' }
  | { kind: 'new-request' }
  | { kind: 'request'; id: number };

export interface HelpRoute {
  org: string;
  page: HelpPage;
}

const SIMPLE = ['sign-in', 'sign-up', 'forgot-password', 'reset-password', 'verify-email', 'requests'] as const;

export function parseHelpPath(path: string): HelpRoute | null {
  const m = /^\/help\/([a-z0-9][a-z0-9-]{0,62})(?:\/(.*?))?\/?$/.exec(path);
  if (!m) return null;
  const org = m[1];
  const rest = m[2] ?? '';
  if (rest === '') return { org, page: { kind: 'home' } };
  const article = /^articles\/(\d{1,18})$/.exec(rest);
  if (article) return { org, page: { kind: 'article', id: Number(article[1]) } };
  if (rest === 'requests/new') return { org, page: { kind: 'new-request' } };
  const request = /^requests\/(\d{1,18})$/.exec(rest);
  if (request) return { org, page: { kind: 'request', id: Number(request[1]) } };
  const simple = SIMPLE.find((s) => s === rest);
  return simple ? { org, page: { kind: simple } } : null;
}

/** The address of a page of `org`'s help centre. */
export function helpPath(org: string, page: HelpPage): string {
  const base = `/help/${org}/`;
  switch (page.kind) {
    case 'home':
      return base;
    case 'article':
      return `${base}articles/${page.id}`;
    case 'new-request':
      return `${base}requests/new`;
    case 'request':
      return `${base}requests/${page.id}`;
    default:
      return `${base}${page.kind}`;
  }
}

/** Goes to `path` without reloading; the help centre hears it as a `popstate`. */
export function go(path: string) {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo?.(0, 0);
}
