import { describe, expect, it } from 'vitest';
import { parseHelpPath } from './route';

describe('parseHelpPath', () => {
  it('reads the organisation and the article from the address', () => {
    expect(parseHelpPath('/help/acme/')).toEqual({ org: 'acme', articleId: null });
    expect(parseHelpPath('/help/acme')).toEqual({ org: 'acme', articleId: null });
    expect(parseHelpPath('/help/acme/articles/42')).toEqual({ org: 'acme', articleId: 42 });
  });

  it('refuses addresses that name nothing', () => {
    expect(parseHelpPath('/help/')).toBeNull();
    expect(parseHelpPath('/help/ACME/../x')).toBeNull();
    expect(parseHelpPath('/help/acme/articles/x')).toBeNull();
  });
});
