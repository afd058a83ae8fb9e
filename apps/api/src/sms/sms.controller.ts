import { Body, Controller, ForbiddenException, HttpCode, HttpException, NotFoundException, Post, ServiceUnavailableException, BadRequestException, ConflictException } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { SmsIntake, type SmsOutcome } from '@amr/routing';
import { SmsGatewayOnly } from '../auth/auth.guard.js';
import { InboundSmsDto } from './sms.dto.js';

/** The HTTP status of each refusal: the gateway (and whoever reads its logs) sees why. */
const REFUSED: Record<Exclude<SmsOutcome, { ok: true }>['refusal'], new (message: string) => HttpException> = {
  format: BadRequestException,
  'unknown-device': NotFoundException,
  sender: ForbiddenException,
  mac: ForbiddenException,
  inactive: ForbiddenException,
  stale: ConflictException,
  unavailable: ServiceUnavailableException,
};

@ApiTags('sms')
@ApiBearerAuth()
@SmsGatewayOnly()
@Controller('sms')
export class SmsController {
  constructor(private readonly sms: SmsIntake) {}

  /**
   * CONTRACT §6: a text received by the SMS gateway. 200 once the press is stored (its `received`
   * goes back by SMS); 4xx with the reason when it is refused (no alarm).
   */
  @Post('inbound')
  @HttpCode(200)
  async inbound(@Body() dto: InboundSmsDto) {
    const outcome = await this.sms.receive(dto.from, dto.text);
    if (!outcome.ok) throw new REFUSED[outcome.refusal](outcome.message);
    return outcome;
  }
}
