import { describe, expect, it } from 'vitest';
import { filterQuery, NO_FILTERS } from './views';

describe('filterQuery', () => {
  it('sends only the filters that are set, the tag as the API stores it', () => {
    expect(filterQuery(NO_FILTERS)).toEqual({});
    expect(filterQuery({ priority: 'urgent', groupId: '7', tag: ' VPN ' })).toEqual({ priority: 'urgent', group_id: '7', tag: 'vpn' });
  });
});
