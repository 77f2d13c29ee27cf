import { describe, expect, it } from 'vitest';
import { covers } from './cidr';

describe('covers', () => {
  it('matches an address inside an IPv4 network and not one outside it', () => {
    expect(covers('203.0.113.0/24', '203.0.113.77')).toBe(true);
    expect(covers('203.0.113.0/24', '203.0.114.1')).toBe(false);
    expect(covers('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(covers('127.0.0.1/32', '127.0.0.2')).toBe(false);
    expect(covers('0.0.0.0/0', '198.51.100.9')).toBe(true);
  });

  it('matches IPv6 networks, compressed or not, and keeps the families apart', () => {
    expect(covers('2001:db8::/32', '2001:db8:1:2::3')).toBe(true);
    expect(covers('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(covers('::1/128', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(covers('::ffff:192.0.2.0/120', '::ffff:192.0.2.200')).toBe(true);
    expect(covers('::/0', '127.0.0.1')).toBe(false);
  });

  it('answers false for what it cannot read', () => {
    expect(covers('not an address', '127.0.0.1')).toBe(false);
    expect(covers('10.0.0.0/33', '10.0.0.1')).toBe(false);
    expect(covers('1::2::3', '1::2')).toBe(false);
  });
});
