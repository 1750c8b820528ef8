import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network a client address stands for in the per-IP limits. An IPv6 client usually holds a
 * whole /64 and can pick a fresh address from it for every request, so IPv6 counts per /64
 * (`2001:db8:0:1::/64`); IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket
 * reports for IPv4 clients) count as their IPv4 address. Anything else is returned unchanged.
 */
export function clientSource(ip: string): string {
  const address = ip.replace(/%.*$/, '');
  if (!isIPv6(address)) return ip;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, `::` expanded and a dotted IPv4 tail split. */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((piece) => {
          if (!isIPv4(piece)) return [parseInt(piece, 16)];
          const [a, b, c, d] = piece.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head, tail] = address.split('::');
  if (tail === undefined) return parse(head);
  const [before, after] = [parse(head), parse(tail)];
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}
