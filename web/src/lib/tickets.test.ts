import { describe, expect, it } from 'vitest';
import { countdown, dueLabel } from './tickets';

describe('dueLabel', () => {
  it('says how long until a deadline, in the largest whole unit', () => {
    expect(dueLabel(45)).toBe('due in 45m');
    expect(dueLabel(150)).toBe('due in 3h');
    expect(dueLabel(2 * 1440)).toBe('due in 2d');
  });

  it('says how long a deadline is overdue, and nothing without one', () => {
    expect(dueLabel(-90)).toBe('2h overdue');
    expect(dueLabel(null)).toBe('');
  });
});

describe('countdown', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');

  it('ticks in minutes and seconds in the last hour, hours and days further out', () => {
    expect(countdown('2026-11-30T12:14:05Z', now)).toBe('14m 05s left');
    expect(countdown('2026-11-30T14:03:59Z', now)).toBe('2h 03m left');
    expect(countdown('2026-12-02T16:00:00Z', now)).toBe('2d 4h left');
  });

  it('counts on past the deadline as overdue', () => {
    expect(countdown('2026-11-30T11:58:30Z', now)).toBe('1m 30s overdue');
    expect(countdown('2026-11-30T09:00:00Z', now)).toBe('3h 00m overdue');
  });
});
