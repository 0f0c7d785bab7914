import { defineCommand } from './command.js';

export interface UnlockResult {
  name: string;
  stage: string;
  /** Who held the lock (empty: there was none). */
  removed: Array<{ host: string; pid: number; command: string; since: string }>;
}

export const unlockCommand = defineCommand<UnlockResult>({
  name: 'unlock',
  summary: 'Break the deployment lock a dead machine left (a lock with no heartbeat for 90 s is taken over anyway)',
  usesDeployFile: true,
  options: [],
  async run(_input, ctx) {
    const [{ openSession }, { breakLock }] = await Promise.all([import('../core/context.js'), import('../core/lock.js')]);
    const spec = await ctx.loadSpec();
    const core = await ctx.core();
    const { provider, t } = await openSession(spec, core);
    const holders = await breakLock(provider.artifacts, t, core.signal);
    const removed = holders.map(({ host, pid, command, since }) => ({ host, pid, command, since }));
    return {
      data: { name: spec.name, stage: spec.stage, removed },
      human: removed.length
        ? removed.map((h) => `removed the lock of ${t.base} held by \`${h.command}\` on ${h.host} (pid ${h.pid}, since ${h.since})`).join('\n')
        : `${t.base} was not locked`,
    };
  },
});
