'use strict';
// A Socket.IO server for wslb verify --backend-cmd:
//
//   node server.js PORT ID
//
// It listens on PORT at $WSLB_HOST (the address verify gives the backend:
// 127.0.0.1 on loopback, the backend's own host with --driver netns;
// default 127.0.0.1), answers GET /healthz with 200 once it is
// ready, and re-emits every "broadcast" event it receives to every client
// of every server (io.emit), through Redis pub/sub when REDIS_URL is set.
// WSLB_NO_ADAPTER=1 leaves the Redis adapter out: a broadcast then reaches
// only the clients of the server that received it, the mistake the
// broadcast scenario catches.
const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.argv[2]);
const id = process.argv[3] || 'io';
const host = process.env.WSLB_HOST || '127.0.0.1';
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node server.js PORT ID');
  process.exit(2);
}

let ready = false;
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ready ? 'ok\n' : 'starting\n');
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

const io = new Server(server, { path: '/socket.io/', serveClient: false });

io.on('connection', (socket) => {
  socket.on('broadcast', (msg) => io.emit('broadcast', msg));
});

const clients = [];

async function main() {
  const url = process.env.REDIS_URL;
  if (url && process.env.WSLB_NO_ADAPTER !== '1') {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pub = createClient({ url });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) {
      c.on('error', (err) => console.error(`${id}: redis: ${err.message}`));
      clients.push(c);
    }
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
    console.log(`${id}: Redis adapter on ${url}`);
  } else {
    console.log(`${id}: no Redis adapter: broadcasts stay on this server`);
  }
  server.listen(port, host, () => {
    ready = true;
    console.log(`${id}: listening on ${host}:${port}`);
  });
}

function stop() {
  io.close();
  for (const c of clients) c.disconnect().catch(() => {});
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((err) => {
  console.error(`${id}: ${err.stack || err}`);
  process.exit(1);
});
