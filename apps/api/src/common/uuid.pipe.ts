import { ParseUUIDPipe } from '@nestjs/common';

/** Route ids that are UUIDs: a malformed one is a 400 that says so, not a database error. */
export const uuidParam = () => new ParseUUIDPipe({ version: undefined });
