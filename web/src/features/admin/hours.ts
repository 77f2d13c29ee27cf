// A calendar's open hours as an admin types them ("09:00-12:00, 13:00-17:00") and as
// the API takes them ([["09:00", "12:00"], ["13:00", "17:00"]]). Nothing is checked
// here: what does not read as a range goes to the API as typed, and the API's error
// shows beside the day.

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];
export const DAY_NAMES: Record<Day, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

export type Ranges = [string, string][];

export function parseRanges(text: string): Ranges {
  return text
    .split(/[,;]/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [a, b = ''] = part.split(/\s*[-–—]\s*|\s+to\s+/);
      return [a.trim(), b.trim()];
    });
}

export function formatRanges(ranges: Ranges | undefined): string {
  return (ranges ?? []).map(([a, b]) => `${a}-${b}`).join(', ');
}

/** Minutes after midnight of "HH:MM" (24:00 is 1440); null when it is not one. */
export function minutes(clock: string): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(clock);
  if (!m) return null;
  const total = Number(m[1]) * 60 + Number(m[2]);
  return Number(m[2]) < 60 && total <= 1440 ? total : null;
}

/** Open minutes a week, for the summary beside a calendar. */
export function weeklyMinutes(hours: Partial<Record<Day, Ranges>>): number {
  let total = 0;
  for (const day of DAYS) {
    for (const [a, b] of hours[day] ?? []) {
      const [x, y] = [minutes(a), minutes(b)];
      if (x !== null && y !== null && y > x) total += y - x;
    }
  }
  return total;
}
