import { clientSource } from './client-source.util';

describe('clientSource (the per-IP limits key)', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(clientSource('192.0.2.17')).toBe('192.0.2.17');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientSource('::ffff:192.0.2.17')).toBe('192.0.2.17');
    expect(clientSource('::FFFF:c000:0211')).toBe('192.0.2.17');
    expect(clientSource('0:0:0:0:0:ffff:192.0.2.17')).toBe('192.0.2.17');
  });

  it('puts every address of one IPv6 /64 in one bucket, however it is written', () => {
    const bucket = clientSource('2001:db8:0:1::1');
    expect(bucket).toBe('2001:db8:0:1::/64');
    for (const address of [
      '2001:db8:0:1:ffff:ffff:ffff:ffff',
      '2001:0DB8:0000:0001:1234:5678:9abc:def0',
      '2001:db8::1:0:0:0:7',
      '2001:db8:0:1::1%eth0',
      '2001:db8:0:1:0:0:192.0.2.1',
    ]) {
      expect(clientSource(address)).toBe(bucket);
    }
  });

  it('gives neighbouring /64s their own buckets', () => {
    expect(clientSource('2001:db8:0:2::1')).not.toBe(clientSource('2001:db8:0:1::1'));
    expect(clientSource('2001:db8:1:1::1')).not.toBe(clientSource('2001:db8:0:1::1'));
    expect(clientSource('::1')).toBe('0:0:0:0::/64');
  });

  it('leaves what is not an IP address alone', () => {
    expect(clientSource('unknown')).toBe('unknown');
    expect(clientSource('')).toBe('');
  });
});
