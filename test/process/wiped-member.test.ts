// Issue 11, defect 1: a member whose data is wiped must never vote under its old identity.
// One run of the scenario in test/helpers/wiped-member.ts with the node in Kubernetes mode
// (the members ConfigMap on a stand-in API server decides the new incarnation); `npm run
// check:wiped-member` repeats it 20 times in both modes.

import test from 'ava';
import { runWipedMember } from '../helpers/wiped-member.js';

test('a wiped member under load, then a leader crash: no acknowledged write is lost, the member returns as a new incarnation', async (t) => {
  t.timeout(120_000);
  const run = await runWipedMember({ mode: 'kubernetes' });
  t.log(
    `${run.acked} writes acknowledged, ${run.ackedWithoutC} of them by ${run.leader}+${run.wiped} only; ` +
      `${run.wiped} came back as ${run.replacedBy}; ${Math.round(run.ms)} ms`,
  );
  t.true(run.ackedWithoutC > 0, 'writes were acknowledged while the lagging member was frozen');
  t.is(run.leaderWhileDown, null, 'no leader while the only full copy of the last writes was down');
  t.deepEqual(run.lost, [], `${run.lost.length} acknowledged writes lost`);
  t.truthy(run.replacedBy, 'the wiped member is a voter again under a new id');
  t.deepEqual(
    [...run.voters].sort(),
    [run.leader, run.lagging, run.replacedBy!].sort(),
    'the old incarnation left the configuration',
  );
});
