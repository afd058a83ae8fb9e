import { describe, expect, it } from '@jest/globals';
import { hitBy, pressesOutside, pressWindow, reconnectTimes } from './failover-report.js';

describe('failover figures', () => {
  const presses = [
    { sentAt: 0, answeredAt: 10, outcome: 'received', receivedMs: 10 },
    { sentAt: 90, answeredAt: 300, outcome: 'received', receivedMs: 210 }, // in flight at the kill (100)
    { sentAt: 120, answeredAt: 400, outcome: 'received', receivedMs: 280 }, // sent within the window
    { sentAt: 150, outcome: 'lost' },
    { sentAt: 700, answeredAt: 705, outcome: 'received', receivedMs: 5 },
  ];

  it('a kill hits the presses in flight at it and those sent within the window after it', () => {
    expect(presses.map((p) => hitBy(p, [100, 600]))).toEqual([false, true, true, true, false]);
    const w = pressWindow(presses, [[100, 600]]);
    expect(w).toMatchObject({ presses: 3, received: 2, lost: 1 });
    expect(w.receivedMs.p50).toBe(210);
    expect(pressesOutside(presses, [[100, 600]])).toMatchObject({ presses: 2, received: 2, lost: 0 });
  });

  it('reconnect time per device from the kill; devices not back are counted apart', () => {
    const back = new Map([[1, 1500], [2, 2200]]);
    expect(reconnectTimes(1000, [1, 2, 3], (d) => back.get(d))).toEqual({ times: [500, 1200], missing: 1 });
  });
});
