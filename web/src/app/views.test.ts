import { describe, expect, it } from 'vitest';
import { dueLabel } from './views';

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
