import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, BrokerAddress, IngestPort, KICK_TOPIC_PREFIX, Metrics, logSafe } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';
import { TopicPolicy, grantAtMostQos1 } from './topic-policy.js';
import { policyHooks } from './broker-hooks.js';
import { CommandDelivery } from './command-delivery.js';
import { ConnectionGate } from './connection-gate.js';
import { ConnectionState } from './connection-state.js';
import { RedisUnavailableError, connectSharedState, describeRedisUrl, type SharedState } from './shared-state.js';
import { reasonOf } from './redis-outage.js';

/** Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;
/**
 * Messages being delivered at once, over all clients. aedes' default (100) makes one queue for the
 * whole broker: a hundred slow sockets (buttons in poor coverage) would hold every ack.
 */
const CONCURRENCY = 65_536;

/** A listener could not start: the one line an operator needs. */
export class ListenError extends Error {}

/**
 * The MQTT broker the buttons connect to: aedes behind plain TCP (MQTT_PORT) and TLS (MQTTS_PORT),
 * each connection through the ConnectionGate's limits, with the policy hooks of DeviceAuthenticator
 * and TopicPolicy. It records each device's
 * connection state, and cuts a device's connection when asked on the control topic.
 *
 * With REDIS_URL, the brokers of all nodes share subscriptions and sessions through Redis
 * (shared-state.ts): a message published on any node reaches the device on whichever node it is
 * connected to, and a device connecting to a second node takes over its connection on the first.
 * Without it, aedes keeps both in memory, as a single node needs.
 */
@Injectable()
export class MqttBroker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('MqttBroker');
  private aedes: Aedes | undefined;
  private shared: SharedState | undefined;
  /** When each device connection was reported connected: what its disconnection refers to. */
  private readonly connectedAt = new WeakMap<Client, Date>();
  private readonly servers: Server[] = [];
  private readonly addresses: { name: string; port: number }[] = [];

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly auth: DeviceAuthenticator,
    private readonly policy: TopicPolicy,
    private readonly commands: CommandDelivery,
    private readonly metrics: Metrics,
    private readonly address: BrokerAddress,
    private readonly gate: ConnectionGate,
    private readonly states: ConnectionState,
    private readonly ingest: IngestPort,
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

  /** Whether Redis is reachable; undefined on a single node (no REDIS_URL). */
  get redisReachable(): boolean | undefined {
    return this.shared ? !this.shared.outage.ongoing : undefined;
  }

  get listening(): boolean {
    return this.servers.length > 0 && this.servers.every((s) => s.listening);
  }

  async onModuleInit(): Promise<void> {
    const shared = this.config.redisUrl ? await this.connectShared(this.config.redisUrl) : undefined;
    this.shared = shared;
    const aedes = await this.createAedes(shared);
    this.aedes = aedes;
    // aedes reports here what fails outside any client (e.g. its periodic clean-up of wills):
    // logged, where an unhandled 'error' event would end the process.
    // (Not in aedes' typings, though emitted.)
    (aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => this.logger.error(`broker: ${logSafe(err.message)}`));
    const publish = (packet: PublishPacket) => new Promise<void>((resolve, reject) => aedes.publish(packet, (e) => (e ? reject(e) : resolve())));
    this.policy.bind(publish);
    this.gate.oversize = this.policy.oversize;
    // The platform's own acks and commands from this process go straight into the broker.
    this.address.local = (topic, payload) => publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false } as PublishPacket);
    aedes.on('subscribe', this.policy.onSubscribe);
    aedes.on('connackSent', (_connack, client) => this.gate.connackSent(client.conn));
    aedes.on('connackSent', this.policy.onSessionResumed);
    aedes.on('ack', this.commands.onAck);
    aedes.on('clientReady', (client) => this.onConnect(client));
    aedes.on('clientDisconnect', (client) => this.onDisconnect(client));
    // One line per failed attempt would let anyone flood the log: debug only, and escaped.
    aedes.on('clientError', (client, err) => this.logger.debug(`${logSafe(client?.id)}: ${logSafe(err.message)}`));
    aedes.on('connectionError', (client, err) =>
      this.logger.debug(`connection from ${logSafe((client?.conn as Socket | undefined)?.remoteAddress)}: ${logSafe(err.message)}`),
    );
    await new Promise<void>((resolve) =>
      aedes.subscribe(`${KICK_TOPIC_PREFIX}+`, (packet, done) => this.kick(packet, done), resolve),
    );

    const { host, port, tls } = this.config.mqtt;
    // Every connection passes the gate (CONTRACT §2 limits) before aedes reads a byte of it.
    const plain = createServer({ noDelay: true }, (socket: Socket) => {
      if (this.gate.admit(socket)) grantAtMostQos1(aedes.handle(socket));
    });
    await this.listen(plain, 'mqtt', host, port, 'MQTT_PORT');
    // In-process clients (routing, API) connect to the port actually bound.
    this.address.url = `mqtt://127.0.0.1:${this.ports.mqtt}`;
    if (tls) {
      const secure = createTlsServer(
        { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ...this.clientCertificates() },
        (socket: TLSSocket) => {
          socket.setNoDelay(true);
          if (this.gate.secured(socket)) grantAtMostQos1(aedes.handle(socket));
        },
      );
      // Counted and timed from the TCP accept, so that the handshake is inside the CONNECT deadline.
      secure.on('connection', (socket: Socket) => this.gate.admitTls(socket));
      await this.listen(secure, 'mqtts', host, tls.port, 'MQTTS_PORT');
    }
  }

  /**
   * With a device CA (TLS_DEVICE_CA), the TLS listener asks every client for a certificate and
   * verifies it against that CA alone (CONTRACT §1 certificates). A connection without one, or with
   * one the CA did not sign, still completes its handshake: DeviceAuthenticator then asks for the
   * secret, so that devices with passwords share the port.
   */
  private clientCertificates(): { ca?: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean } {
    const deviceCa = this.config.deviceCa;
    if (!deviceCa) return {};
    return { ca: readFileSync(deviceCa.certFile), requestCert: true, rejectUnauthorized: false };
  }

  async onApplicationShutdown(): Promise<void> {
    // Stop accepting, then close every client (a server's close waits for its open sockets).
    const closed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.servers.length = 0;
    this.gate.closeHandshakes();
    this.shared?.outage.close(); // connections closed from here on are no outage
    const aedes = this.aedes;
    if (aedes && !aedes.closed) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await this.shared?.close();
    await Promise.all(closed);
    await this.states.flush(); // the disconnections of the clients just closed
  }

  /**
   * aedes, with the shared mq and persistence on several nodes. Redis lost between the connection
   * check and the persistence's set-up stops start-up with the same one line.
   */
  private async createAedes(shared: SharedState | undefined): Promise<Aedes> {
    try {
      return await Aedes.createBroker({
        // The node's name: what tells the nodes sharing Redis apart (sessions, takeovers).
        id: this.config.nodeId,
        drainTimeout: 5000, // one stalled subscriber must not block everyone for 60 s
        concurrency: CONCURRENCY,
        maxClientsIdLength: 128,
        ...policyHooks(this.gate, this.auth, this.policy),
        ...(shared && { mq: shared.mq, persistence: shared.persistence }),
      });
    } catch (err) {
      if (!shared) throw err;
      await shared.close().catch(() => undefined);
      throw new RedisUnavailableError(
        `Cannot reach Redis at ${describeRedisUrl(this.config.redisUrl!)}: ${reasonOf(err)} — start Redis (or fix REDIS_URL), or unset REDIS_URL to run a single node`,
      );
    }
  }

  private connectShared(url: string): Promise<SharedState> {
    const where = describeRedisUrl(url);
    return connectSharedState({
      url,
      prefix: this.config.redisPrefix,
      concurrency: CONCURRENCY,
      log: {
        lost: (reason) =>
          this.logger.error(
            `Redis at ${where} unreachable (${logSafe(reason)}): this node serves the devices connected to it on its own ` +
              'until Redis is back; messages for devices on other nodes, and sessions stored or restored meanwhile, are lost',
          ),
        restored: (downForMs) => {
          this.logger.log(`Redis at ${where} reachable again (after ${Math.round(downForMs / 1000)} s)`);
          this.remindMissed();
        },
      },
    });
  }

  /**
   * Redis is back: the devices that may have missed an ack or a command this node published during
   * the outage (they were connected to another node) are given, through Redis now, what the
   * database says they are owed — their open alarm's stage and their pending commands — as if
   * they had subscribed again. Those connected here had it already.
   */
  private remindMissed(): void {
    const missed = this.shared?.takeMissed() ?? [];
    const here = (this.aedes as unknown as { clients: Record<string, Client | undefined> } | undefined)?.clients ?? {};
    const elsewhere = missed.filter((deviceId) => !here[deviceId]);
    for (const deviceId of elsewhere) this.ingest.subscribed(deviceId, ['ack', 'cmd']);
    if (elsewhere.length > 0) this.logger.log(`${elsewhere.length} device(s) on other nodes reminded of what they may have missed`);
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
      // A fleet reconnecting at once (a mast back up, a node failed over) arrives in one burst:
      // a short accept queue would drop connections and make the buttons back off.
      server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
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
      this.logger.log(`${logSafe(deviceId)}: connection cut by the platform`);
      client.close();
    }
    done();
  }

  private onConnect(client: Client): void {
    this.metrics.connectedDevices.set(this.connectedClients);
    const principal = this.auth.principalOf(client);
    // CONNACK is sent: the connection is no longer pending, and only the platform's own clients may
    // now send packets over 4 KiB (CONTRACT §2).
    this.gate.ready(client.conn, principal?.kind === 'internal', client.id, !client.clean);
    if (principal?.kind !== 'device') return;
    const at = new Date();
    this.connectedAt.set(client, at);
    this.states.connected(principal.deviceId, at);
  }

  private onDisconnect(client: Client): void {
    this.metrics.connectedDevices.set(this.connectedClients);
    const principal = this.auth.principalOf(client);
    if (principal?.kind !== 'device') return;
    const clients = (this.aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    const current = clients[principal.deviceId];
    if (current && current !== client) return; // a newer connection of the same device took over
    // A connection never reported connected (closed before its CONNACK) has nothing to undo.
    const since = this.connectedAt.get(client);
    if (since) this.states.disconnected(principal.deviceId, since);
  }
}
