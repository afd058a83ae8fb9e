import { Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG } from '../process/tokens.js';
import { DeviceLink } from './device-link.js';
import { BrokerAddress } from './broker-address.js';
import { DeviceCommands } from './device-commands.js';

/**
 * Provides the DeviceLink, and DeviceCommands on it. It connects at application bootstrap, after every module's init, so an
 * in-process broker is already listening.
 */
@Module({
  providers: [
    {
      provide: DeviceLink,
      inject: [AMR_CONFIG, BrokerAddress],
      useFactory: (config: AmrConfig, broker: BrokerAddress) => new DeviceLink(config, broker, 'link'),
    },
    DeviceCommands,
  ],
  exports: [DeviceLink, DeviceCommands],
})
export class DeviceLinkModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly link: DeviceLink) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.link.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.link.close();
  }
}
