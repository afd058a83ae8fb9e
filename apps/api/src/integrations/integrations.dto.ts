import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, IsUrl, Length, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { WEBHOOK_DELIVERY_STATES, type WebhookDeliveryState } from '@amr/persistence';
import { Omittable } from '../common/omittable.js';

/** http or https, with a host (an IP or an intranet name is fine), no user:password@ part. */
const WEBHOOK_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false, disallow_auth: true };
const WEBHOOK_URL_MESSAGE = 'webhookUrl must be an http:// or https:// URL without user:password@ (https is strongly advised)';

export class CreateIntegrationDto {
  @ApiProperty({ example: 'cic-antwerpen' })
  @IsString()
  @Length(1, 64)
  cicId: string;

  @ApiProperty({ example: 'Antwerpen dispatch console' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({
    description: 'Where events are POSTed (docs/webhooks.md). A signing secret is then issued in the answer, once.',
    example: 'https://cic-antwerpen.example.be/amr/webhook',
  })
  @Omittable()
  @IsUrl(WEBHOOK_URL, { message: WEBHOOK_URL_MESSAGE })
  @MaxLength(2000)
  webhookUrl?: string;
}

export class UpdateIntegrationDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The new webhook URL, or null to stop webhooks (pending deliveries are then abandoned)',
    example: 'https://cic-antwerpen.example.be/amr/webhook',
  })
  @ValidateIf((dto: UpdateIntegrationDto) => dto.webhookUrl !== null)
  @IsUrl(WEBHOOK_URL, { message: WEBHOOK_URL_MESSAGE })
  @MaxLength(2000)
  webhookUrl: string | null;
}

export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: WEBHOOK_DELIVERY_STATES })
  @Omittable()
  @IsIn(WEBHOOK_DELIVERY_STATES, { message: `state must be one of: ${WEBHOOK_DELIVERY_STATES.join(', ')}` })
  state?: WebhookDeliveryState;

  @ApiPropertyOptional({ default: 100 })
  @Omittable() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

/** An integration as administrators see it: never its token hash or webhook secret. */
export interface IntegrationView {
  id: string;
  cicId: string;
  name: string;
  webhookUrl: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface DeliveryView {
  id: string;
  eventType: string;
  state: WebhookDeliveryState;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}
