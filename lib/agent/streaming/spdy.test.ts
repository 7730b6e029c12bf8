import t from 'tap';
import { deflateSync, inflateSync } from 'node:zlib';
import {
  controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FLAG_FIN, FrameReader, HeaderCodec, parseControl, PING, SPDY3_DICTIONARY, synStream, u32,
} from './spdy.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';

t.test('the SPDY/3 dictionary has the spec length and shape', async (t) => {
  t.equal(SPDY3_DICTIONARY.length, 1423);
  t.same([...SPDY3_DICTIONARY.subarray(0, 11)], [0, 0, 0, 7, ...Buffer.from('options')]);
  t.equal(SPDY3_DICTIONARY.subarray(-6).toString('latin1'), 'enq=0.');
});

t.test('header blocks round-trip, compressed with the dictionary as one stream per direction', async (t) => {
  const h = { streamtype: 'data', port: '8080', requestid: '0' };
  t.same(decodeHeaderBlock(encodeHeaderBlock(h)), h);
  const a = new HeaderCodec();
  const b = new HeaderCodec();
  t.teardown(() => { a.close(); b.close(); });
  const c1 = await a.compress(h);
  const c2 = await a.compress({ ...h, streamtype: 'error' });
  t.ok(c2.length < c1.length, 'the second block reuses the shared window');
  t.same(await b.decompress(c1), h);
  t.same(await b.decompress(c2), { ...h, streamtype: 'error' });
  // A zlib stream made elsewhere with the same dictionary decodes too (interoperability with Go's compressor).
  const foreign = deflateSync(encodeHeaderBlock({ streamtype: 'stdout' }), { dictionary: SPDY3_DICTIONARY });
  t.same(decodeHeaderBlock(inflateSync(foreign, { dictionary: SPDY3_DICTIONARY })), { streamtype: 'stdout' });
});

t.test('frames encode and decode, split or joined', async (t) => {
  const codec = new HeaderCodec();
  const peer = new HeaderCodec();
  t.teardown(() => { codec.close(); peer.close(); });
  const syn = await synStream(codec, 1, { streamtype: 'error' }, true);
  const data = dataFrame(3, Buffer.from('hello'), true);
  const pingF = controlFrame(PING, 0, u32(7));
  const all = Buffer.concat([syn, data, pingF]);
  const r = new FrameReader();
  const frames = [];
  for (let i = 0; i < all.length; i += 5) frames.push(...r.push(all.subarray(i, i + 5)));
  t.equal(frames.length, 3);
  const [f0, f1, f2] = frames;
  t.equal(f0!.type, 'control');
  const c0 = await parseControl(peer, f0 as Extract<typeof f0, { type: 'control' }> & object);
  t.same(c0, { kind: 'syn_stream', streamId: 1, fin: true, headers: { streamtype: 'error' } });
  t.same(f1, { type: 'data', streamId: 3, flags: FLAG_FIN, data: Buffer.from('hello') });
  t.same(await parseControl(peer, f2 as Extract<typeof f2, { type: 'control' }> & object), { kind: 'ping', id: 7 });
});

t.test('a client and a server session exchange streams, data and half-close', async (t) => {
  let server!: SpdySession;
  const client = new SpdySession({ client: true, write: (b) => setImmediate(() => server.receive(b)), close: () => {} });
  server = new SpdySession({ client: false, write: (b) => setImmediate(() => client.receive(b)), close: () => {} });
  const got = new Promise<{ headers: Record<string, string>; body: string }>((resolve) => {
    server.on('stream', (s: SpdyStream) => {
      let body = '';
      s.on('data', (d: Buffer) => (body += d));
      s.on('end', () => { s.end(Buffer.from(body.toUpperCase())); resolve({ headers: s.headers, body }); });
    });
  });
  const s = await client.open({ streamtype: 'data', port: '80', requestid: '1' });
  let reply = '';
  const ended = new Promise<void>((resolve) => { s.on('data', (d: Buffer) => (reply += d)); s.on('end', () => resolve()); });
  s.write(Buffer.from('abc'));
  s.end();
  t.same(await got, { headers: { streamtype: 'data', port: '80', requestid: '1' }, body: 'abc' });
  await ended;
  t.equal(reply, 'ABC');
  client.close();
  server.transportClosed();
});
