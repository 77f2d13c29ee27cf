import { describe, expect, it } from 'vitest';
import { helpPath, parseHelpPath } from './route';

describe('parseHelpPath', () => {
  it('reads the organisation and the page from the address', () => {
    expect(parseHelpPath('/help/acme/')).toEqual({ org: 'acme', page: { kind: 'home' } });
    expect(parseHelpPath('/help/acme')).toEqual({ org: 'acme', page: { kind: 'home' } });
    expect(parseHelpPath('/help/acme/articles/42')).toEqual({ org: 'acme', page: { kind: 'article', id: 42 } });
    expect(parseHelpPath('/help/acme/requests/new')).toEqual({ org: 'acme', page: { kind: 'new-request' } });
    expect(parseHelpPath('/help/acme/requests/7/')).toEqual({ org: 'acme', page: { kind: 'request', id: 7 } });
    expect(parseHelpPath('/help/acme/sign-up')).toEqual({ org: 'acme', page: { kind: 'sign-up' } });
    expect(parseHelpPath('/help/acme/reset-password')).toEqual({ org: 'acme', page: { kind: 'reset-password' } });
  });

  it('refuses addresses that name nothing', () => {
    expect(parseHelpPath('/help/')).toBeNull();
    expect(parseHelpPath('/help/ACME/../x')).toBeNull();
    expect(parseHelpPath('/help/acme/articles/x')).toBeNull();
    expect(parseHelpPath('/help/acme/requests/new/x')).toBeNull();
    expect(parseHelpPath('/help/acme/admin')).toBeNull();
  });

  it('writes back every address it reads', () => {
    for (const path of ['/help/acme/', '/help/acme/articles/3', '/help/acme/requests', '/help/acme/requests/new', '/help/acme/requests/9', '/help/acme/sign-in']) {
      const route = parseHelpPath(path);
      expect(route && helpPath(route.org, route.page)).toBe(path);
    }
  });
});
