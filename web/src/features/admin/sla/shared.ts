// What the service-level screens share: names of statuses and clocks, and durations.
import type { Schemas } from '../../../lib/api';
import type { Day, Ranges } from '../hours';

export type Calendar = Schemas['CalendarRecord'];
export type Policy = Schemas['PolicyRecord'];
export type Priority = Schemas['Priority'];
export type Status = Schemas['Status'];

export const PAUSABLE: Status[] = ['new', 'open', 'pending', 'on_hold'];
export const STATUS_NAMES: Record<string, string> = { new: 'New', open: 'Open', pending: 'Pending', on_hold: 'On hold' };
export const CLOCK_NAMES: Record<string, string> = {
  first_response: 'First response',
  next_response: 'Next response',
  resolution: 'Resolution',
};

export const hoursOf = (c: Calendar) => c.hours as Partial<Record<Day, Ranges>>;
export const duration = (m: number) => (m % 60 === 0 ? `${m / 60} h` : m > 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`);
