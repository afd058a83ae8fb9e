import { BadRequestException, ParseUUIDPipe, type PipeTransform } from '@nestjs/common';
import { DEVICE_ID_PATTERN } from '@amr/protocol';

/** Route ids that are UUIDs: a malformed one is a 400 that says so, not a database error. */
export const uuidParam = () => new ParseUUIDPipe({ version: undefined });

/** A route id checked against its pattern before it reaches a query: a malformed one is a 400 that says what is expected. */
class PatternPipe implements PipeTransform<string, string> {
  constructor(
    private readonly pattern: RegExp,
    private readonly expected: string,
  ) {}

  transform(value: string): string {
    if (typeof value !== 'string' || !this.pattern.test(value)) throw new BadRequestException(`Not ${this.expected}`);
    return value;
  }
}

/** A device id (CONTRACT §1). */
export const deviceIdParam = () => new PatternPipe(DEVICE_ID_PATTERN, 'a device id: 3-64 characters of A-Z, a-z, 0-9, "_" or "-"');

/** A CIC id: a slug such as cic-antwerpen (GET /api/v1/cics lists them). */
export const cicIdParam = () => new PatternPipe(/^[A-Za-z0-9_-]{1,64}$/, 'a CIC id: a slug such as cic-antwerpen (GET /api/v1/cics lists them)');
