// How `npm run cluster` starts a member whose data dir is empty: `new` (bootstrap with the
// others) only while no member of this cluster has started yet; once any other member's data
// dir holds a bootstrap record the cluster exists, and a member with an empty dir (deleted
// by hand, or never started) must join as a new incarnation: `existing`. A member that has
// data ignores the setting. Decided at every (re)start, so a data dir deleted while the
// cluster runs is handled when the supervisor restarts that member.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { BOOTSTRAP_FILE } from '../src/bootstrap.js';
import type { InitialClusterState } from '../src/membership/index.js';

export function initialClusterState(
  dataRoot: string,
  ids: readonly string[],
  id: string,
): InitialClusterState {
  const created = ids.some((other) => other !== id && existsSync(path.join(dataRoot, other, BOOTSTRAP_FILE)));
  return created ? 'existing' : 'new';
}
