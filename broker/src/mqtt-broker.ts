import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import type { DataSource } from 'typeorm';
import { Device } from '@amr/persistence';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, BrokerAddress, DATA_SOURCE, KICK_TOPIC_PREFIX, Metrics } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';
import { TopicPolicy } from './topic-policy.js';
import { CommandDelivery } from './command-delivery.js';

/** A listener could not start: the one line an operator needs. */
export class ListenError extends Error {}

/**
 * The MQTT broker the buttons connect to: aedes behind plain TCP (MQTT_PORT) and TLS (MQTTS_PORT),
 * with the policy hooks of DeviceAuthenticator and TopicPolicy. It records each device's
 * connection state, and cuts a device's connection when asked on the control topic.
 */
@Injectable()
export class MqttBroker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('MqttBroker');
  private aedes: Aedes | undefined;
  private readonly servers: Server[] = [];
  private readonly addresses: { name: string; port: number }[] = [];

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly auth: DeviceAuthenticator,
    private readonly policy: TopicPolicy,
    private readonly commands: CommandDelivery,
    private readonly metrics: Metrics,
    private readonly address: BrokerAddress,
  ) {}

  /** The ports actually bound (useful when configured as 0). */
  get ports(): { mqtt: number; mqtts?: number } {
    const mqtt = this.addresses.find((a) => a.name === 'mqtt')?.port ?? 0;
    const mqtts = this.addresses.find((a) => a.name === 'mqtts')?.port;
    return mqtts === undefined ? { mqtt } : { mqtt, mqtts };
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  get listening(): boolean {
    return this.servers.length > 0 && this.servers.every((s) => s.listening);
  }

  async onModuleInit(): Promise<void> {
    const aedes = await Aedes.createBroker({
      id: this.config.nodeId,
      drainTimeout: 5000, // STACK_NOTES: one stalled subscriber must not block everyone for 60 s
      maxClientsIdLength: 128,
      authenticate: this.auth.authenticate,
      authorizePublish: this.policy.authorizePublish,
      authorizeSubscribe: this.policy.authorizeSubscribe,
    });
    this.aedes = aedes;
    this.policy.bind((packet: PublishPacket) => new Promise<void>((resolve, reject) => aedes.publish(packet, (e) => (e ? reject(e) : resolve()))));
    aedes.on('ack', this.commands.onAck);
    aedes.on('clientReady', (client) => this.onConnect(client));
    aedes.on('clientDisconnect', (client) => this.onDisconnect(client));
    aedes.on('clientError', (client, err) => this.logger.debug(`${client?.id}: ${err.message}`));
    aedes.on('connectionError', (client, err) => this.logger.debug(`connection ${client?.id}: ${err.message}`));
    await new Promise<void>((resolve) =>
      aedes.subscribe(`${KICK_TOPIC_PREFIX}+`, (packet, done) => this.kick(packet, done), resolve),
    );

    const { host, port, tls } = this.config.mqtt;
    const plain = createServer({ noDelay: true }, (socket: Socket) => aedes.handle(socket));
    await this.listen(plain, 'mqtt', host, port, 'MQTT_PORT');
    // In-process clients (routing, API) connect to the port actually bound.
    this.address.url = `mqtt://127.0.0.1:${this.ports.mqtt}`;
    if (tls) {
      const secure = createTlsServer(
        { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
        (socket: TLSSocket) => {
          socket.setNoDelay(true);
          aedes.handle(socket);
        },
      );
      await this.listen(secure, 'mqtts', host, tls.port, 'MQTTS_PORT');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Stop accepting, then close every client (a server's close waits for its open sockets).
    const closed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.servers.length = 0;
    const aedes = this.aedes;
    if (aedes && !aedes.closed) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closed);
  }

  private listen(server: Server, name: string, host: string, port: number, variable: string): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? `port ${port} is already in use: stop the other process or set ${variable} to a free port`
            : `${err.code ?? err.message}: check ${variable}`;
        reject(new ListenError(`Cannot start the ${name.toUpperCase()} listener on ${host}:${port}: ${why}`));
      });
      server.listen(port, host, () => {
        const address = server.address();
        const bound = typeof address === 'object' && address ? address.port : port;
        this.servers.push(server);
        this.addresses.push({ name, port: bound });
        this.logger.log(`${name}://${host}:${bound} listening`);
        resolve();
      });
    });
  }

  private kick(packet: AedesPublishPacket, done: () => void): void {
    const deviceId = packet.topic.slice(KICK_TOPIC_PREFIX.length);
    const clients = (this.aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    const client = clients[deviceId];
    if (client) {
      this.logger.log(`${deviceId}: connection cut by the platform`);
      client.close();
    }
    done();
  }

  private onConnect(client: Client): void {
    this.metrics.connectedDevices.set(this.connectedClients);
    const principal = this.auth.principalOf(client);
    if (principal?.kind !== 'device') return;
    const now = new Date();
    this.db
      .getRepository(Device)
      .update({ id: principal.deviceId }, { connected: true, connectedAt: now, lastSeenAt: now })
      .catch((err: unknown) => this.logger.error(`${principal.deviceId}: connection state not saved: ${String(err)}`));
  }

  private onDisconnect(client: Client): void {
    this.metrics.connectedDevices.set(this.connectedClients);
    const principal = this.auth.principalOf(client);
    if (principal?.kind !== 'device') return;
    const clients = (this.aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    const current = clients[principal.deviceId];
    if (current && current !== client) return; // a newer connection of the same device took over
    this.db
      .getRepository(Device)
      .update({ id: principal.deviceId }, { connected: false, disconnectedAt: new Date() })
      .catch((err: unknown) => this.logger.error(`${principal.deviceId}: connection state not saved: ${String(err)}`));
  }
}
