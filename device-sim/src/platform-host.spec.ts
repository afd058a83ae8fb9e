import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { PLATFORM_NODE_FLAGS, nodeArgs } from './platform-host.js';

describe('the platform processes\' node flags', () => {
  it('are those of package.json\'s start scripts, so the simulator measures the platform as npm start runs it', () => {
    const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['start', 'start:broker', 'start:routing', 'start:api']) {
      const flags = scripts[name]!.split(/\s+/).filter((word) => word.startsWith('--'));
      expect({ name, flags }).toEqual({ name, flags: PLATFORM_NODE_FLAGS });
    }
  });

  it('are followed by AMR_NODE_ARGS, which may add or override one', () => {
    const saved = process.env['AMR_NODE_ARGS'];
    try {
      process.env['AMR_NODE_ARGS'] = ' --cpu-prof  --max-semi-space-size=32 ';
      expect(nodeArgs()).toEqual([...PLATFORM_NODE_FLAGS, '--cpu-prof', '--max-semi-space-size=32']);
      delete process.env['AMR_NODE_ARGS'];
      expect(nodeArgs()).toEqual(PLATFORM_NODE_FLAGS);
    } finally {
      if (saved === undefined) delete process.env['AMR_NODE_ARGS'];
      else process.env['AMR_NODE_ARGS'] = saved;
    }
  });
});
