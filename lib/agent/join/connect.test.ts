import t from 'tap';
import { connectAgent, retryable } from './connect.ts';
import { JoinError, type JoinResult } from './join.ts';

const result: JoinResult = { kubeconfigPath: '/x', caPem: 'ca', clientCert: 'c', clientKey: 'k', servingCert: 's', servingKey: 'sk', clientCaPem: 'cc' };

t.test('retries while the server is down, fails fast otherwise', async (t) => {
  t.ok(retryable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
  t.ok(retryable(new JoinError('joining https://x failed (503): busy')));
  t.notOk(retryable(new JoinError('the server at https://x refused the token (401 Unauthorized)')));
  t.notOk(retryable(new JoinError('the CA served by https://x does not match the hash in the token')));

  let calls = 0;
  const ac = new AbortController();
  const r = await connectAgent({
    server: 'https://127.0.0.1:1', token: 't', dataDir: '/nonexistent', nodeName: 'n', signal: ac.signal, retryDelayMs: 1,
    join: async () => {
      if (++calls < 3) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return result;
    },
  });
  t.equal(calls, 3);
  t.equal(r.join, result);
  t.ok(r.client);

  let fatal = 0;
  await t.rejects(connectAgent({
    server: 'https://127.0.0.1:1', token: 't', dataDir: '/nonexistent', nodeName: 'n', signal: ac.signal, retryDelayMs: 1,
    join: async () => { fatal++; throw new JoinError('node password rejected: ...'); },
  }), /node password rejected/);
  t.equal(fatal, 1);

  const stop = new AbortController();
  const pending = connectAgent({
    server: 'https://127.0.0.1:1', token: 't', dataDir: '/nonexistent', nodeName: 'n', signal: stop.signal, retryDelayMs: 5,
    join: async () => { throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' }); },
  });
  setTimeout(() => stop.abort(), 50);
  await t.rejects(pending, /joining aborted/);
});
