import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every counter the platform keeps, in one place. Refusals and rejections are counted here so that
 * nothing is dropped silently (CONTRACT §2, §3); GET /metrics exposes them in Prometheus format.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly connectRefused = new Counter({
    name: 'amr_mqtt_connect_refused_total',
    help: 'MQTT connections refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly connectionsClosed = new Counter({
    name: 'amr_mqtt_connections_closed_total',
    help: 'MQTT connections closed by the broker\'s connection limits (packet over 4 KiB, malformed length, CONNECT deadline, pending per address), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly publishRefused = new Counter({
    name: 'amr_mqtt_publish_refused_total',
    help: 'Device publishes refused by the broker (topic ACL, payload limit)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly subscribeRefused = new Counter({
    name: 'amr_mqtt_subscribe_refused_total',
    help: 'Device subscriptions refused by the broker (SUBACK 0x80)',
    registers: [this.registry],
  });
  readonly connectedDevices = new Gauge({
    name: 'amr_mqtt_connected_clients',
    help: 'Clients connected to this broker node',
    registers: [this.registry],
  });
  readonly connectStep = new Histogram({
    name: 'amr_mqtt_connect_step_seconds',
    help: 'Where a connection waits before its CONNACK: read (TCP accept to its CONNECT read, a TLS handshake included), credentials (the device\'s stored credentials looked up), connack (CONNECT read to CONNACK written: authentication and the session restored)',
    labelNames: ['step'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly deviceMessages = new Counter({
    name: 'amr_device_messages_total',
    help: 'Messages received from devices, by channel',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly deviceMessagesJoined = new Counter({
    name: 'amr_device_messages_joined_total',
    help: 'Device messages sent again while their first copy was still queued or being processed (a retransmission): answered with its outcome, not processed twice',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly deviceMessagesRejected = new Counter({
    name: 'amr_device_messages_rejected_total',
    help: 'Device messages that could not be processed, by channel and error code',
    labelNames: ['channel', 'code'] as const,
    registers: [this.registry],
  });
  readonly presses = new Counter({
    name: 'amr_alarm_presses_total',
    help: 'Button presses, by outcome (new alarm, joined an open alarm, retransmission)',
    labelNames: ['outcome', 'kind'] as const,
    registers: [this.registry],
  });
  readonly pressToReceived = new Histogram({
    name: 'amr_press_to_received_seconds',
    help: 'From a press reaching the platform to its received ack being handed to the device',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly alertsRaised = new Counter({
    name: 'amr_technical_alerts_raised_total',
    help: 'Technical alerts raised by device supervision, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly alertsCleared = new Counter({
    name: 'amr_technical_alerts_cleared_total',
    help: 'Technical alerts cleared (device restored, battery recharged, no longer supervised), by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly supervisionSweep = new Histogram({
    name: 'amr_supervision_sweep_seconds',
    help: 'Duration of one supervision sweep (every supervised device checked)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly commandsDelivered = new Counter({
    name: 'amr_device_commands_delivered_total',
    help: 'Commands a device acknowledged (PUBACK)',
    registers: [this.registry],
  });
  readonly devicesFlooding = new Counter({
    name: 'amr_devices_flooding_total',
    help: 'Floods: a device disconnected for queueing more messages than a button ever has (counted once per device every 10 s)',
    registers: [this.registry],
  });
  readonly remindersSkipped = new Counter({
    name: 'amr_device_reminders_skipped_total',
    help: 'SUBSCRIBEs whose replay of the alarm stage was folded into the next one (one per device every few seconds)',
    registers: [this.registry],
  });
  readonly pressBatch = new Histogram({
    name: 'amr_press_batch_size',
    help: 'Presses stored per transaction (group commit)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });
  readonly pressStep = new Histogram({
    name: 'amr_press_step_seconds',
    help: 'Where a press batch spends its time: waiting to start (queued, per press), taking a connection, BEGIN, each statement by name, COMMIT (per batch)',
    labelNames: ['step'] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly eventLogDelay = new Histogram({
    name: 'amr_event_log_delay_seconds',
    help: 'From an event\'s insert into the log to this process passing it to its streams: its commit, the wait for every older writing transaction to end (the log is read in commit order without gaps), and the read; the database clock at the insert against this process clock',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly announceDelay = new Histogram({
    name: 'amr_alarm_announce_seconds',
    help: 'Joined presses their own transaction did not announce (the rest of an alarm\'s second, announced together at its end): from the announcer being asked to their alarm.pressed event in the log (the wait for it, the read of the alarm view, the write of the event)',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly smsReceived = new Counter({
    name: 'amr_sms_received_total',
    help: 'SMS texts posted by the SMS gateway to /api/v1/sms/inbound, by outcome (pressed or refused)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly smsRefused = new Counter({
    name: 'amr_sms_refused_total',
    help: 'SMS texts refused, no alarm: format, unknown-device, inactive, sender, mac, stale (a replayed press)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly smsSent = new Counter({
    name: 'amr_sms_acks_total',
    help: 'Acks sent by SMS through AMR_SMS_GATEWAY_URL, by outcome (sent, retried, failed: given up after the last attempt)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly httpErrors = new Counter({
    name: 'amr_http_errors_total',
    help: 'HTTP requests answered with an error status, by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly httpRateLimited = new Counter({
    name: 'amr_http_rate_limited_total',
    help: 'HTTP requests answered 429, by limit (token, alarm-reads, address, sse-streams)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly auditWriteFailures = new Counter({
    name: 'amr_audit_write_failures_total',
    help: 'Audit entries that could not be stored (each is written whole to the log instead): alert on any',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'amr_' });
  }

  /** The current value of a counter, summed over its labels (for tests and reports). */
  async total(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    if (!metric) return 0;
    return metric.values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
