import { describe, expect, it } from 'vitest';
import { formatRanges, minutes, parseRanges, weeklyMinutes } from './hours';

describe('open hours', () => {
  it('reads ranges as typed, with any dash or "to", and writes them back', () => {
    expect(parseRanges('09:00-12:00, 13:00 – 17:00')).toEqual([
      ['09:00', '12:00'],
      ['13:00', '17:00'],
    ]);
    expect(parseRanges('08:30 to 24:00')).toEqual([['08:30', '24:00']]);
    expect(parseRanges('  ')).toEqual([]);
    expect(formatRanges([['09:00', '17:00']])).toBe('09:00-17:00');
  });

  it('passes what is not a range on as typed, for the API to name', () => {
    expect(parseRanges('9-5, noon')).toEqual([
      ['9', '5'],
      ['noon', ''],
    ]);
  });

  it('counts the open minutes of a week, ignoring what it cannot read', () => {
    expect(minutes('24:00')).toBe(1440);
    expect(minutes('24:30')).toBeNull();
    expect(minutes('9:00')).toBeNull();
    expect(weeklyMinutes({ mon: [['09:00', '17:00']], tue: [['09:00', '12:00'], ['x', '13:00']] })).toBe(660);
  });
});
