// HTTP/2 flow control per stream, with Node's own http2 client against the server at process.argv[2] (https://host:port).
// Prints one JSON line with what it saw (the test asserts on it); exits 1 with the error otherwise.
//
//   node h2-flow-control.mjs URL download NAME HOLD_MS
//     One connection (a large connection window, a 16 KiB stream window) carries stream A, a member of mirror instance
//     NAME that this client pauses (stops reading), and stream B, a dumb-increment session it keeps reading. A sender on
//     a second connection fills NAME until the server stops reading it (A's send queue at its limit, A's stream window
//     spent); B's rate is measured while A stays paused for HOLD_MS; then A reads again and takes what the server still
//     sends it, up to its close frame if the server closed it meanwhile.
//   node h2-flow-control.mjs URL upload NAME PAUSED
//     One connection carries PAUSED upload streams, each a member of its own mirror instance whose other member (on a
//     second connection) does not read, so the server stops reading each upload stream (backpressure) and its stream
//     window fills; a sibling upload stream on the same connection, alone in its own instance, then uploads and must get
//     every message echoed.
import http2 from 'node:http2';
import { randomBytes } from 'node:crypto';

const [url, scenario, name, parameter] = process.argv.slice(2);
const target = new URL(url);
const started = performance.now();
const deadline = setTimeout(() => fail(new Error(`timed out (${JSON.stringify(progress)})`)), 60000);
const progress = {};
const MESSAGE_BYTES = 2048;
const sessions = [];

function fail(error) {
  console.error(error?.stack ?? String(error));
  process.exit(1);
}

const now = () => Math.round(performance.now() - started);
const delay = ms => new Promise(resolve => setTimeout(resolve, ms));

async function until(what, condition, within = 20000) {
  const end = performance.now() + within;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${within} ms (${JSON.stringify(progress)})`);
    await delay(20);
  }
}

// A connection whose connection-level receive window is large, so any stall is not the client's connection window.
async function connect(streamWindow) {
  const session = http2.connect(target, { rejectUnauthorized: false, settings: { initialWindowSize: streamWindow } });
  session.on('error', fail);
  sessions.push(session);
  await new Promise((resolve, reject) => session.once('remoteSettings', s => s.enableConnectProtocol ? resolve() : reject(new Error('SETTINGS_ENABLE_CONNECT_PROTOCOL not sent'))));
  session.setLocalWindowSize(64 * 1024 * 1024);
  return session;
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

// A text message carrying its sequence number, padded to MESSAGE_BYTES.
const message = seq => `${String(seq).padStart(8, '0')}:`.padEnd(MESSAGE_BYTES, 'x');

// One WebSocket over one extended-CONNECT stream, counting what it is given: bytes, text messages (and the sequence
// numbers they carry), the close frame, and a reset.
async function open(session, path, protocol) {
  const stream = session.request({
    ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':authority': target.host, ':path': path,
    'sec-websocket-version': '13', 'sec-websocket-protocol': protocol,
  });
  const headers = await new Promise((resolve, reject) => { stream.once('response', resolve); stream.once('error', reject); });
  if (headers[':status'] !== 200) throw new Error(`${protocol}: status ${headers[':status']}`);
  const socket = { stream, bytes: 0, texts: 0, seqs: [], close: null, ended: false, reset: null, lastAt: now() };
  let buffered = Buffer.alloc(0);
  stream.on('error', error => { socket.reset = error.code ?? String(error); });
  stream.on('close', () => { socket.ended = true; socket.reset ??= stream.rstCode ? `rst ${stream.rstCode}` : null; });
  stream.on('data', chunk => {
    socket.bytes += chunk.length;
    socket.lastAt = now();
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      let length = buffered[1] & 0x7f, offset = 2;
      if (length === 126) { if (buffered.length < 4) return; length = buffered.readUInt16BE(2); offset = 4; }
      else if (length === 127) { if (buffered.length < 10) return; length = Number(buffered.readBigUInt64BE(2)); offset = 10; }
      if (buffered.length < offset + length) return;
      const opcode = buffered[0] & 0x0f;
      const payload = buffered.subarray(offset, offset + length);
      buffered = buffered.subarray(offset + length);
      if (opcode === 0x1) {
        socket.texts++;
        if (protocol === 'lws-mirror-protocol') socket.seqs.push(Number(payload.subarray(0, 8).toString()));
      } else if (opcode === 0x8) {
        socket.close = { code: payload.length >= 2 ? payload.readUInt16BE(0) : null, reason: payload.subarray(2).toString() };
        // Answer the close as a browser does (its code back), and end our side of the stream.
        stream.end(frame(0x8, payload.subarray(0, 2)));
      }
    }
  });
  return socket;
}

// Writes numbered messages as fast as the stream takes them (waiting for 'drain' when Node's buffer is full) until
// stopped; returns the count written (all of them reach the server once it reads again).
function blast(socket, from = 1) {
  const state = { sent: 0, stop: false, waiting: false };
  state.done = (async () => {
    while (!state.stop) {
      if (!socket.stream.write(frame(0x1, Buffer.from(message(from + state.sent))))) {
        state.sent++;
        state.waiting = true;
        await new Promise(resolve => {
          const done = () => { socket.stream.off('drain', done); socket.stream.off('close', done); resolve(); };
          socket.stream.on('drain', done);
          socket.stream.on('close', done);
        });
        state.waiting = false;
        if (socket.ended) return;
      } else {
        state.sent++;
      }
      if (state.sent % 16 === 0) await new Promise(setImmediate);
    }
  })();
  return state;
}

// True once `read()` has not changed for `quietMs` (sampled every 50 ms).
async function settles(what, read, quietMs = 500, within = 20000) {
  let last = read(), since = performance.now();
  await until(what, () => {
    const value = read();
    if (value !== last) { last = value; since = performance.now(); }
    return performance.now() - since >= quietMs;
  }, within);
  return last;
}

const inOrder = seqs => seqs.every((s, i) => s === i + 1);

async function download(holdMs) {
  const shared = await connect(16384);
  const b = await open(shared, '/', 'dumb-increment-protocol');
  const a = await open(shared, `/?mirror=${name}`, 'lws-mirror-protocol');
  const senders = await connect(65535);
  const sender = await open(senders, `/?mirror=${name}`, 'lws-mirror-protocol');

  // Both members get the first messages: A is in the instance and reading.
  for (let i = 1; i <= 10; i++) sender.stream.write(frame(0x1, Buffer.from(message(i))));
  await until('A reads the first 10 messages', () => a.seqs.length === 10);
  const baselineFrom = b.texts;
  await delay(1000);
  const baselinePerSecond = b.texts - baselineFrom;

  a.stream.pause();
  const aBytesAtPause = a.bytes;
  const blaster = blast(sender, 11);
  // A's stream window is spent, then the server stops reading the sender once A's queue is at its limit: the sender's
  // writes back up and its echoes stop growing (a server merely slow under load would not fill the sender's window).
  await until("A's stream window is spent and the sender's writes back up", () => a.stream.state.localWindowSize === 0 && blaster.waiting);
  await settles("the sender's echoes stop (the server stopped reading it)", () => sender.texts, 500);
  progress.stalledAt = now();
  const stalled = {
    aBytesSincePause: a.bytes - aBytesAtPause,
    aStreamWindow: a.stream.state.localWindowSize,
    connectionWindow: shared.state.localWindowSize,
    senderEchoes: sender.texts,
    sent: blaster.sent + 10,
    senderWaitingForDrain: blaster.waiting,
  };

  // While A stays paused, B keeps its rate.
  const bFrom = b.texts, windowFrom = now();
  const aBytesBefore = a.bytes;
  await delay(holdMs);
  const held = {
    ms: now() - windowFrom,
    bMessages: b.texts - bFrom,
    aBytesGrew: a.bytes - aBytesBefore,
    aStreamWindow: a.stream.state.localWindowSize,
    senderEchoes: sender.texts,
    aClosedWhilePaused: a.ended,
  };

  blaster.stop = true;
  const sent = blaster.sent + 10;
  a.stream.resume();
  // A reads again: it takes every message the server still sends it, up to the close frame if it was closed.
  await until('A gets what the server still sends', () => a.seqs.length >= sent || a.close || a.ended, 30000);
  if (a.close || a.ended) await until('A ends', () => a.ended, 15000);
  const bAfterFrom = b.texts;
  await delay(500);
  return {
    scenario: 'download',
    baselinePerSecond,
    stalled,
    held,
    sent,
    a: { received: a.seqs.length, inOrder: inOrder(a.seqs), last: a.seqs.at(-1) ?? 0, close: a.close, reset: a.reset, ended: a.ended },
    bAfterHalfSecond: b.texts - bAfterFrom,
    bEnded: b.ended,
    sharedConnectionAlive: !shared.destroyed && !shared.closed,
  };
}

async function upload(pausedCount) {
  const shared = await connect(65535);
  const readers = await connect(16384);
  const blocked = [];
  for (let k = 0; k < pausedCount; k++) {
    const instance = `${name}-blocked-${k}`;
    const idle = await open(readers, `/?mirror=${instance}`, 'lws-mirror-protocol');
    idle.stream.pause();
    const uploader = await open(shared, `/?mirror=${instance}`, 'lws-mirror-protocol');
    blocked.push({ uploader, blaster: blast(uploader) });
  }
  // Each blocked uploader: the server stopped reading it (its echoes stop) and its writes back up in Node.
  for (const [k, { uploader, blaster }] of blocked.entries()) {
    await settles(`blocked uploader ${k}'s echoes stop`, () => uploader.texts, 500);
    await until(`blocked uploader ${k} waits for the server's window`, () => blaster.waiting);
  }
  progress.blockedAt = now();
  const blockedState = blocked.map(({ uploader, blaster }) => ({
    sent: blaster.sent, echoes: uploader.texts, peerWindow: uploader.stream.state.remoteWindowSize ?? null, buffered: uploader.stream.writableLength,
  }));

  // The sibling on the same connection uploads 2 MiB (more than its own stream window) and gets every message echoed.
  const sibling = await open(shared, `/?mirror=${name}-sibling`, 'lws-mirror-protocol');
  const count = 1024;
  const from = now();
  let siblingError = null;
  try {
    for (let i = 1; i <= count; i++) {
      if (!sibling.stream.write(frame(0x1, Buffer.from(message(i))))) {
        // The 'drain' event itself, bounded (polling for it would pace the upload at the poll interval).
        let timer;
        const drained = await Promise.race([
          new Promise(resolve => sibling.stream.once('drain', () => resolve(true))),
          new Promise(resolve => { timer = setTimeout(() => resolve(false), 10000); }),
        ]);
        clearTimeout(timer);
        if (!drained) throw new Error(`the sibling's message ${i} is taken: not within 10000 ms (${JSON.stringify(progress)})`);
      }
    }
    await until('the sibling gets its 1024 messages echoed', () => sibling.seqs.length === count, 10000);
  } catch (error) {
    siblingError = error.message;
  }
  const siblingMs = now() - from;
  return {
    scenario: 'upload',
    paused: pausedCount,
    blocked: blockedState,
    blockedStill: blocked.map(({ uploader, blaster }) => ({ echoes: uploader.texts, waiting: blaster.waiting })),
    sibling: { echoed: sibling.seqs.length, inOrder: inOrder(sibling.seqs), ms: siblingMs, error: siblingError },
    sharedConnectionAlive: !shared.destroyed && !shared.closed,
  };
}

const result = scenario === 'download' ? await download(Number(parameter))
  : scenario === 'upload' ? await upload(Number(parameter))
  : fail(new Error(`unknown scenario '${scenario}'`));
console.log(JSON.stringify(result));
clearTimeout(deadline);
for (const session of sessions) session.destroy();
