// `npm run check:wiped-member -- [--runs 20] [--mode kubernetes|local|both]`: the wiped-member
// scenario of issue 11 (test/helpers/wiped-member.ts) again and again on real processes. Each
// run freezes one follower, writes through the leader, wipes the other follower's data dir,
// kills the leader right after, and checks that no acknowledged write was lost, that nobody
// led while the only full copy was down, and that the wiped member came back as a new
// incarnation. Prints one line per run and a summary; exits 1 on any failure.

import { parseArgs } from 'node:util';
import { runWipedMember } from '../test/helpers/wiped-member.js';
import type { WipeMode, WipeRun } from '../test/helpers/wiped-member.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, mode: { type: 'string', default: 'kubernetes' } },
});
const runs = Number(values.runs);
const modes: WipeMode[] =
  values.mode === 'both' ? ['kubernetes', 'local'] : values.mode === 'local' ? ['local'] : ['kubernetes'];
if (!Number.isInteger(runs) || runs < 1 || !['kubernetes', 'local', 'both'].includes(values.mode)) {
  console.error('usage: npm run check:wiped-member -- [--runs 20] [--mode kubernetes|local|both]');
  process.exit(2);
}

const problems = (r: WipeRun): string[] => [
  ...(r.lost.length > 0
    ? [`${r.lost.length} acknowledged writes lost (${r.lost.slice(0, 3).join(', ')}...)`]
    : []),
  ...(r.leaderWhileDown !== null ? [`${r.leaderWhileDown} led while the leader was down`] : []),
  ...(r.replacedBy === null ? ['the wiped member never became a voter under a new id'] : []),
  ...(r.ackedWithoutC === 0 ? ['no write was acknowledged while the follower was frozen'] : []),
];

let failed = 0;
for (const mode of modes) {
  const results: WipeRun[] = [];
  for (let i = 1; i <= runs; i++) {
    const r = await runWipedMember({ mode, label: `run${i}` });
    results.push(r);
    const bad = problems(r);
    if (bad.length > 0) failed++;
    console.log(
      `${mode} run ${String(i).padStart(2)}: ${bad.length === 0 ? 'ok  ' : 'FAIL'} ` +
        `acked ${r.acked} (${r.ackedWithoutC} without the frozen follower), lost ${r.lost.length}, ` +
        `${r.wiped} -> ${r.replacedBy ?? '-'}, leader back + caught up at ${r.phases['leader back, caught up']} ms, ` +
        `replaced at ${r.phases['replaced']} ms${bad.length > 0 ? `: ${bad.join('; ')}` : ''}`,
    );
  }
  const acked = results.reduce((n, r) => n + r.ackedWithoutC, 0);
  const lost = results.reduce((n, r) => n + r.lost.length, 0);
  console.log(
    `${mode}: ${results.length} runs, ${acked} writes acknowledged by the leader and the wiped member only, ${lost} lost, ` +
      `${results.filter((r) => problems(r).length === 0).length}/${results.length} runs ok`,
  );
}
process.exit(failed === 0 ? 0 : 1);
