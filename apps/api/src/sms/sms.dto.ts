import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

/** E.164: a plus sign and up to 15 digits, no spaces (ITU-T E.164). */
export const E164 = /^\+[1-9]\d{6,14}$/;
export const E164_MESSAGE = 'must be an E.164 number: "+", country code and number, digits only (e.g. +32470123456)';

/** CONTRACT §6: what the SMS gateway posts for each text it receives. */
export class InboundSmsDto {
  @ApiProperty({ description: 'The sender, E.164', example: '+32470123456' })
  @Matches(E164, { message: `from ${E164_MESSAGE}` })
  from: string;

  @ApiProperty({ description: 'The text as received: AMR1 <payload>.<mac>', example: 'AMR1 pWFkamJ0bi00ZjJhOWNjc2VxB2J0cxprBF7mY2xvY6RjbGF0-0BJnBVMmF8HY2xvbvtAEZwo9cKPXGNhY2MUY3NyY2RnbnNzY2JhdBhR.Cf5BHCbOxasPdtMX' })
  @IsString() @Length(1, 1000)
  text: string;
}
