import t from 'tap';
import { criUpgradeRequest, isSpdyUpgrade, streamProtocols } from './spdy-proxy.ts';

t.test('SPDY upgrade requests are recognised and replayed to the CRI URL with every protocol offer', async (t) => {
  t.ok(isSpdyUpgrade({ headers: { upgrade: 'SPDY/3.1' } }));
  t.notOk(isSpdyUpgrade({ headers: { upgrade: 'websocket' } }));
  t.notOk(isSpdyUpgrade({ headers: {} }));
  const offers = streamProtocols({ headersDistinct: { 'x-stream-protocol-version': ['v4.channel.k8s.io', 'v3.channel.k8s.io, v2.channel.k8s.io', 'channel.k8s.io'] } });
  t.same(offers, ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);
  t.equal(criUpgradeRequest('http://127.0.0.1:4321/exec/AbC?x=1', offers.slice(0, 2)),
    'POST /exec/AbC?x=1 HTTP/1.1\r\nHost: 127.0.0.1:4321\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
    'X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\nContent-Length: 0\r\n\r\n');
});
