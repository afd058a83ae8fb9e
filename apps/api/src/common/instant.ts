import { BadRequestException } from '@nestjs/common';

/**
 * A date-time query parameter as a Date. The ISO 8601 check of the DTOs lets through texts that
 * `Date` cannot represent (`9383109`, a year past 275760) or the database cannot (before 4713 BC):
 * those are a 400 too, never a query with an invalid date. Years 1 to 9999 are accepted.
 */
export function instant(name: string, text: string): Date {
  const date = new Date(text);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) throw new BadRequestException(`${name} must be a date and time such as 2026-11-01T00:00:00Z, got "${text.slice(0, 40)}"`);
  return date;
}
