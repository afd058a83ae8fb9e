import { describe, expect, it } from '@jest/globals';
import { FD_MARGIN, planIdleSteps } from './bench-idle.js';

describe('planIdleSteps', () => {
  const limit = (soft: number, hard = soft) => ({ soft, hard });

  it('measures every count the open-files limits allow, on both sides', () => {
    expect(planIdleSteps([10_000], { simulator: limit(20_000), platform: limit(20_000), baseline: limit(20_000) }, true)).toEqual([{ devices: 10_000 }]);
  });

  it('says which limit rules a count out, and how to raise it', () => {
    const [ten, fifty, hundred] = planIdleSteps([10_000, 50_000, 100_000], { simulator: limit(60_000, 200_000), platform: limit(60_000, 200_000), baseline: limit(20_000) }, true);
    expect(ten).toEqual({ devices: 10_000 });
    expect(fifty!.platformSkipped).toBeUndefined();
    expect(fifty!.baselineSkipped).toBe(`not measured: ulimit -n of the plain broker is 20000; 50,000 connections need ≥ ${50_000 + FD_MARGIN.baseline} (its hard limit is 20000: raise that first (as root, /etc/security/limits.conf or the service's LimitNOFILE))`);
    expect(hundred!.platformSkipped).toBe(`not measured: ulimit -n of the simulator is 60000; 100,000 connections need ≥ ${100_000 + FD_MARGIN.simulator} (raise it with ulimit -n ${100_000 + FD_MARGIN.simulator})`);
  });

  it('leaves the baseline out when there is none, and unknown limits unchecked', () => {
    expect(planIdleSteps([50_000], { simulator: undefined, platform: limit(20_000) }, false)).toEqual([
      { devices: 50_000, platformSkipped: expect.stringMatching(/ulimit -n of the platform is 20000/) },
    ]);
    expect(planIdleSteps([50_000], { simulator: undefined, platform: undefined }, true)).toEqual([{ devices: 50_000 }]);
  });
});
