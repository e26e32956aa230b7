// The event log: paging through applied changes, 410 once history is compacted into a
// snapshot, and the Server-Sent Events stream (id: = log index, Last-Event-ID resume,
// heartbeat comments).

import test from 'ava';
import { InProcessCluster } from '../helpers/in-process-cluster.js';
import { assertProblem, get, post } from './client.js';

let cluster: InProcessCluster;

test.before(async () => {
  cluster = await InProcessCluster.start({ size: 3, sseHeartbeatMs: 50 });
  await cluster.waitForLeader();
});
test.after.always(async () => {
  await cluster.stop();
});

interface Event {
  index: number;
  term: number;
  type: string;
  payload: Record<string, unknown>;
}
interface Page {
  events: Event[];
  next_after: number;
  applied_index: number;
}

/** Reads an SSE stream until `done(text)` holds or the timeout passes; returns what arrived. */
async function readStream(
  url: string,
  headers: Record<string, string>,
  done: (text: string) => boolean,
  timeoutMs = 5_000,
): Promise<{ text: string; contentType: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const res = await fetch(url, { headers, signal: controller.signal });
  const contentType = res.headers.get('content-type') ?? '';
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (!done(text)) {
      const { value, done: end } = await reader.read();
      if (end) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // aborted by the timeout: return what arrived
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { text, contentType };
}

test.serial('events page through the applied history in log order', async (t) => {
  const leader = await cluster.waitForLeader();
  for (let i = 0; i < 5; i++)
    t.is(
      (await post(leader.url, '/api/v1/printers', { id: `ev${i}`, company: 'C', model: 'M' })).status,
      201,
    );
  const all = await get(leader.url, '/api/v1/events?after=0&limit=1000');
  t.is(all.status, 200, all.text);
  const page = all.body as Page;
  const creates = page.events.filter((e) => e.type === 'printer.create');
  t.deepEqual(
    creates.map((e) => e.payload['id']),
    ['ev0', 'ev1', 'ev2', 'ev3', 'ev4'],
  );
  for (const e of page.events) t.true(Number.isInteger(e.index) && Number.isInteger(e.term) && e.term > 0);
  const indexes = page.events.map((e) => e.index);
  t.deepEqual(
    indexes,
    [...indexes].sort((a, b) => a - b),
  );
  // Paging with a small limit visits the same events.
  const seen: number[] = [];
  let after = 0;
  for (let guard = 0; guard < 100; guard++) {
    const p = (await get(leader.url, `/api/v1/events?after=${after}&limit=2`)).body as Page;
    seen.push(...p.events.map((e) => e.index));
    if (p.next_after === after) break;
    after = p.next_after;
  }
  t.deepEqual(seen, indexes);
  // Followers serve the same log.
  const follower = cluster.followers(leader.id)[0]!;
  await cluster.waitForApplied(leader.node.status().applied);
  const theirs = (await get(follower.url, '/api/v1/events?after=0&limit=1000')).body as Page;
  t.deepEqual(
    theirs.events.filter((e) => e.type === 'printer.create').map((e) => e.payload['id']),
    creates.map((e) => e.payload['id']),
  );
});

test.serial('SSE streams newly applied events with id: = index and heartbeat comments', async (t) => {
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  const streaming = readStream(
    `${follower.url}/api/v1/events?watch=true`,
    {},
    (text) => text.includes('sse-printer') && text.includes(': ping'),
  );
  await new Promise((r) => setTimeout(r, 100));
  t.is(
    (await post(leader.url, '/api/v1/printers', { id: 'sse-printer', company: 'C', model: 'M' })).status,
    201,
  );
  const { text, contentType } = await streaming;
  t.regex(contentType, /^text\/event-stream/);
  const block = text.split('\n\n').find((b) => b.includes('sse-printer'));
  t.truthy(block, text);
  const id = /^id: (\d+)$/m.exec(block!)?.[1];
  const data = /^data: (.*)$/m.exec(block!)?.[1];
  t.truthy(id);
  t.like(JSON.parse(data!), { index: Number(id), type: 'printer.create', payload: { id: 'sse-printer' } });
  t.regex(block!, /^event: printer\.create$/m);
  t.regex(text, /^: ping$/m);
});

test.serial('SSE resumes after Last-Event-ID, replaying what was missed', async (t) => {
  const leader = await cluster.waitForLeader();
  const r1 = await post(leader.url, '/api/v1/printers', { id: 'resume-1', company: 'C', model: 'M' });
  t.is(r1.status, 201);
  const page = (await get(leader.url, '/api/v1/events?after=0&limit=1000')).body as Page;
  const mark = page.events.find((e) => e.payload['id'] === 'resume-1')!.index;
  t.is(
    (await post(leader.url, '/api/v1/printers', { id: 'resume-2', company: 'C', model: 'M' })).status,
    201,
  );
  const { text } = await readStream(
    `${leader.url}/api/v1/events?watch=true`,
    { 'Last-Event-ID': String(mark) },
    (s) => s.includes('resume-2'),
  );
  t.true(text.includes('resume-2'), text);
  t.false(text.includes('"resume-1"'), 'events up to Last-Event-ID are not repeated');
});

test.serial('410 with the earliest index once the history was compacted by a snapshot', async (t) => {
  const leader = await cluster.waitForLeader();
  t.is(
    (await post(leader.url, '/api/v1/printers', { id: 'before-snap', company: 'C', model: 'M' })).status,
    201,
  );
  const snap = await post(leader.url, '/cluster/snapshot');
  t.is(snap.status, 200, snap.text);
  const { index } = snap.body as { index: number };
  t.true(index > 0);
  const gone = await get(leader.url, '/api/v1/events?after=0');
  const problem = assertProblem(t, gone, 410, 'history_compacted');
  t.is(problem['earliest_index'], index + 1);
  const tail = await get(leader.url, `/api/v1/events?after=${index}`);
  t.is(tail.status, 200);
  // Writes keep working after compaction and show up after the snapshot point.
  t.is(
    (await post(leader.url, '/api/v1/printers', { id: 'after-snap', company: 'C', model: 'M' })).status,
    201,
  );
  const newer = (await get(leader.url, `/api/v1/events?after=${index}`)).body as Page;
  t.true(newer.events.some((e) => e.payload['id'] === 'after-snap'));
  // An SSE watch from before the snapshot is told where history starts.
  const { text } = await readStream(`${leader.url}/api/v1/events?watch=true&after=0`, {}, (s) =>
    s.includes('after-snap'),
  );
  t.regex(text, /event: compacted/);
  t.true(text.includes('after-snap'));
});

test.serial('the event log lists changes only: refusals and idempotent replays are not events', async (t) => {
  const leader = await cluster.waitForLeader();
  const follower = cluster.followers(leader.id)[0]!;
  const mark = leader.node.appliedIndex();
  const expected = [
    'printer.create ch-p',
    'filament.create ch-f',
    'print_job.create ch-j',
    'print_job.status ch-j Running',
    'print_job.status ch-j Done',
    'printer.create ch-idem',
  ];
  const streamed = readStream(
    `${follower.url}/api/v1/events?watch=true&after=${mark}`,
    {},
    (text) => text.includes('"ch-idem"') && text.includes('"ch-last"'),
  );
  const printer = { id: 'ch-p', company: 'C', model: 'M' };
  const steps: [string, unknown, number, Record<string, string>?][] = [
    ['/api/v1/printers', printer, 201],
    ['/api/v1/printers', printer, 409], // duplicate id
    ['/api/v1/filaments', { id: 'ch-f', type: 'PLA', color: 'c', total_weight_in_grams: 100 }, 201],
    [
      '/api/v1/print_jobs',
      { id: 'ch-x', printer_id: 'nope', filament_id: 'ch-f', filepath: 'a', print_weight_in_grams: 1 },
      404,
    ],
    [
      '/api/v1/print_jobs',
      { id: 'ch-y', printer_id: 'ch-p', filament_id: 'ch-f', filepath: 'a', print_weight_in_grams: 999 },
      409,
    ],
    [
      '/api/v1/print_jobs',
      { id: 'ch-j', printer_id: 'ch-p', filament_id: 'ch-f', filepath: 'a', print_weight_in_grams: 10 },
      201,
    ],
    ['/api/v1/print_jobs/ch-j/status?status=Done', undefined, 409], // Queued→Done
    ['/api/v1/print_jobs/ch-j/status?status=Running', undefined, 200],
    ['/api/v1/print_jobs/ch-j/status?status=Running', undefined, 409],
    ['/api/v1/print_jobs/ch-j/status?status=Done', undefined, 200],
    ['/api/v1/print_jobs/ch-j/status?status=Running', undefined, 409], // Done→Running
    ['/api/v1/printers', { id: 'ch-idem', company: 'C', model: 'M' }, 201, { 'Idempotency-Key': 'ch-key' }],
    ['/api/v1/printers', { id: 'ch-idem', company: 'C', model: 'M' }, 201, { 'Idempotency-Key': 'ch-key' }], // replay
    ['/api/v1/printers', { id: 'ch-other', company: 'C', model: 'M' }, 422, { 'Idempotency-Key': 'ch-key' }],
    ['/api/v1/print_jobs/ch-nope/status?status=Running', undefined, 404],
  ];
  for (const [path, body, status, headers] of steps) {
    const answer = await post(leader.url, path, body, headers);
    t.is(answer.status, status, `${path}: ${answer.text}`);
  }
  // One more change, so that the stream (and the pages) are known to have seen everything before it.
  t.is((await post(leader.url, '/api/v1/printers', { id: 'ch-last', company: 'C', model: 'M' })).status, 201);
  const describe = (e: Event): string =>
    [e.type, e.payload['id'], e.payload['status']].filter((x) => x !== undefined).join(' ');
  const expectedAll = [...expected, 'printer.create ch-last'];

  const page = (await get(leader.url, `/api/v1/events?after=${mark}&limit=1000`)).body as Page;
  t.deepEqual(page.events.map(describe), expectedAll);
  await cluster.waitForApplied(leader.node.appliedIndex());
  const theirs = (await get(follower.url, `/api/v1/events?after=${mark}&limit=1000`)).body as Page;
  t.deepEqual(theirs.events.map(describe), expectedAll, 'a follower lists the same changes');

  const { text } = await streamed;
  const blocks = text.split('\n\n').filter((b) => /^data: /m.test(b));
  const events = blocks.map((b) => JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as Event);
  t.deepEqual(events.map(describe), expectedAll, 'the watch streams the same changes');
  // `limit` counts events, however many refused commands lie between them.
  const three = (await get(leader.url, `/api/v1/events?after=${mark}&limit=3`)).body as Page;
  t.deepEqual(three.events.map(describe), expectedAll.slice(0, 3));
  const rest = (await get(leader.url, `/api/v1/events?after=${three.next_after}&limit=3`)).body as Page;
  t.deepEqual(rest.events.map(describe), expectedAll.slice(3, 6));
  // A restarted member applies its log again and tells the same changes apart.
  await cluster.stopNode(follower.id);
  await cluster.restartNode(follower.id);
  await cluster.waitForApplied(leader.node.appliedIndex(), [follower.id]);
  const restarted = (await get(cluster.url(follower.id), `/api/v1/events?after=${mark}&limit=1000`))
    .body as Page;
  t.deepEqual(restarted.events.map(describe), expectedAll, 'after a restart');
});
