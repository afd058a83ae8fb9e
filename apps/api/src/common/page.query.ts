import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { Omittable } from './omittable.js';

/** The largest `offset` a list takes: past it, a caller narrows the list with its filters. */
export const MAX_OFFSET = 10_000_000;

/** `limit` and `offset` of a paged list (`{total?, limit, offset, items}`), bounded. */
export class PageQuery {
  @ApiPropertyOptional({ default: 100 })
  @Omittable() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ default: 0, maximum: MAX_OFFSET })
  @Omittable() @Type(() => Number)
  @IsInt({ message: 'offset must be a whole number' })
  @Min(0, { message: `offset must be 0 to ${MAX_OFFSET}` })
  @Max(MAX_OFFSET, { message: `offset must be 0 to ${MAX_OFFSET}: narrow the list with its filters instead` })
  offset?: number;
}
