// At most `max` connections open at once from one address, so one client cannot hold every slot of
// `maxConnections`; a connection over it is closed at once. Exempt: trusted proxies, which carry
// everyone's connections. The count is kept per address only while it has connections open.
import type { Server } from 'node:http';

export function limitConnectionsPerAddress(server: Server, max: number, exempt: (peer: string) => boolean) {
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const peer = socket.remoteAddress ?? '';
    if (exempt(peer)) return;
    const count = (open.get(peer) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(peer, count);
    socket.once('close', () => {
      const left = open.get(peer)! - 1;
      if (left === 0) open.delete(peer);
      else open.set(peer, left);
    });
  });
}
