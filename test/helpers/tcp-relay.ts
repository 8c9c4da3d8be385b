import net from 'node:net';

export interface TcpRelay {
  url: string;
  /** The gateway unreachable: every connection through the relay is cut and its port stops listening. */
  cut(): Promise<void>;
  /** Listening again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP relay to the gateway that can be cut (the gateway unreachable) and restored on the same port. */
export async function tcpRelay(target: URL): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;
  const open = async () => {
    server = net.createServer((s) => {
      const up = net.connect(Number(target.port), target.hostname);
      sockets.add(s).add(up);
      s.pipe(up).pipe(s);
      const end = () => {
        s.destroy();
        up.destroy();
      };
      s.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  };
  const cut = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise((r) => server.close(r));
  };
  await open();
  return { url: `http://127.0.0.1:${port}`, cut, restore: open, close: async () => (server.listening ? cut() : undefined) };
}
