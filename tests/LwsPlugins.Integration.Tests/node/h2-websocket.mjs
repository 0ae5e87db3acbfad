// WebSockets over HTTP/2 (RFC 8441) with Node's own http2 client: dumb-increment, mirror and lws-status sessions as
// streams of ONE connection to the server at process.argv[2] (https://host:port). Prints one JSON line with what it
// saw; exits 1 with the error otherwise. The certificate is not checked (tests use a generated one).
import http2 from 'node:http2';
import { randomBytes } from 'node:crypto';

const target = new URL(process.argv[2]);
const deadline = setTimeout(() => fail(new Error('timed out')), 20000);
const client = http2.connect(target, { rejectUnauthorized: false });
client.on('error', fail);

function fail(error) {
  console.error(error?.stack ?? String(error));
  process.exit(1);
}

function frame(opcode, payload) {
  const mask = randomBytes(4);
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length])
    : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

// One WebSocket over one extended-CONNECT stream: unmasked server frames in, masked client frames out.
async function open(path, protocol) {
  const stream = client.request({
    ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':authority': target.host, ':path': path,
    'sec-websocket-version': '13', 'sec-websocket-protocol': protocol,
  });
  const headers = await new Promise((resolve, reject) => { stream.once('response', resolve); stream.once('error', reject); });
  if (headers[':status'] !== 200) throw new Error(`${protocol}: status ${headers[':status']}`);
  let buffered = Buffer.alloc(0);
  const messages = [];
  const waiters = [];
  stream.on('data', chunk => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      let length = buffered[1] & 0x7f, offset = 2;
      if (length === 126) { if (buffered.length < 4) return; length = buffered.readUInt16BE(2); offset = 4; }
      else if (length === 127) { if (buffered.length < 10) return; length = Number(buffered.readBigUInt64BE(2)); offset = 10; }
      if (buffered.length < offset + length) return;
      const message = { opcode: buffered[0] & 0x0f, payload: buffered.subarray(offset, offset + length) };
      buffered = buffered.subarray(offset + length);
      (waiters.shift() ?? (m => messages.push(m)))(message);
    }
  });
  return {
    protocol: headers['sec-websocket-protocol'],
    send: text => stream.write(frame(0x1, Buffer.from(text))),
    next: () => messages.length ? Promise.resolve(messages.shift()) : new Promise(resolve => waiters.push(resolve)),
    async text() { const m = await this.next(); if (m.opcode !== 0x1) throw new Error(`opcode ${m.opcode}, not text`); return m.payload.toString(); },
    stream,
  };
}

await new Promise((resolve, reject) => client.once('remoteSettings', s => s.enableConnectProtocol ? resolve() : reject(new Error('SETTINGS_ENABLE_CONNECT_PROTOCOL not sent'))));
const result = { alpn: client.alpnProtocol };

const counter = await open('/', 'dumb-increment-protocol');
result.counterProtocol = counter.protocol;
result.counter = [await counter.text(), await counter.text(), await counter.text()];
counter.send('reset\n');
let afterReset;
for (let i = 0; i < 5 && afterReset !== '0'; i++) afterReset = await counter.text();
result.afterReset = afterReset;

const first = await open('/?mirror=h2', 'lws-mirror-protocol');
const second = await open('/?mirror=h2', 'lws-mirror-protocol');
first.send('c #ff0000 10 20 5;');
result.mirror = [await first.text(), await second.text()];

const status = await open('/', 'lws-status');
result.wssOverH2 = JSON.parse(await status.text()).wss_over_h2;

counter.send('closeme\n');
let close;
while (!close) { const m = await counter.next(); if (m.opcode === 0x8) close = m.payload; }
result.close = { code: close.readUInt16BE(0), reason: close.subarray(2).toString() };

// A frame header declaring a 10 MB message (over the 1 MiB limit) and no body: the frame guard closes with 1009 at once.
const oversized = await open('/', 'dumb-increment-protocol');
await oversized.text();
const header = Buffer.alloc(14);
header[0] = 0x81; header[1] = 0x80 | 127; header.writeBigUInt64BE(10_000_000n, 2); randomBytes(4).copy(header, 10);
oversized.stream.write(header);
let tooBig;
while (!tooBig) { const m = await oversized.next(); if (m.opcode === 0x8) tooBig = m.payload; }
result.oversizedClose = tooBig.readUInt16BE(0);
result.sessionsOnOneConnection = 5;

console.log(JSON.stringify(result));
clearTimeout(deadline);
for (const s of [first, second, status]) s.stream.close();
client.close();
