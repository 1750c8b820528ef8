import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type ProxyMode = 'forward' | 'blackhole';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (PostgreSQL), under the test's control:
 * - `refuse()`: drops every open connection and stops listening: the server is gone;
 * - `blackhole()`: keeps the connections and accepts new ones, but nothing gets through in either
 *   direction: the server hangs (or the network does);
 * - `restore()`: listens again on the same port and forwards; held connections stay dead.
 */
export class TcpProxy {
  private server: Server | undefined;
  private mode: ProxyMode = 'forward';
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.listen(0);
    return proxy;
  }

  /** A proxy in front of the PostgreSQL at `databaseUrl`, and the same URL pointed through it. */
  static async inFrontOf(databaseUrl: string): Promise<{ proxy: TcpProxy; proxiedUrl: string }> {
    const target = new URL(databaseUrl);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(databaseUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    return { proxy, proxiedUrl: proxied.toString() };
  }

  get port(): number {
    return this.boundPort;
  }

  /** Open client connections (for a test that wants to see the pool at work). */
  get connections(): number {
    return [...this.sockets].filter((socket) => socket.remotePort !== this.target.port).length;
  }

  async refuse(): Promise<void> {
    this.mode = 'forward';
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  async restore(): Promise<void> {
    // Connections held in the black hole lost bytes both ways; they can never be used again.
    if (this.mode === 'blackhole') {
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
    }
    this.mode = 'forward';
    if (!this.server) await this.listen(this.boundPort);
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private accept(client: Socket): void {
    const upstream = new Socket();
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
    }
    // In a black hole bytes are read and dropped, so neither side sees a closed or full socket.
    client.on('data', (chunk) => {
      if (this.mode === 'forward') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (this.mode === 'forward') client.write(chunk);
    });
    upstream.connect(this.target.port, this.target.host);
  }
}
