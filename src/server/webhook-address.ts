// Which addresses the service will not send events to unless its operator allows them: a webhook
// URL is the project's to choose, and without this it could make the service knock on the
// machine's own ports or its network's (SSRF). Checked on the address the name resolves to, and
// the connection made to that same address, so a name cannot resolve to another one in between.
import { BlockList, isIP } from 'node:net';

/** Each kind of address that is not the public internet's, with its ranges. */
const ranges: [kind: string, family: 'ipv4' | 'ipv6', network: string, prefix: number][] = [
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['loopback', 'ipv6', '::1', 128],
  ['unspecified', 'ipv4', '0.0.0.0', 8],
  ['unspecified', 'ipv6', '::', 128],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['private', 'ipv6', 'fc00::', 7],
  ['shared (carrier-grade NAT)', 'ipv4', '100.64.0.0', 10],
  ['link-local', 'ipv4', '169.254.0.0', 16],
  ['link-local', 'ipv6', 'fe80::', 10],
  ['reserved', 'ipv4', '192.0.0.0', 24],
  ['reserved', 'ipv4', '198.18.0.0', 15],
  ['reserved', 'ipv4', '240.0.0.0', 4],
  ['multicast', 'ipv4', '224.0.0.0', 4],
  ['multicast', 'ipv6', 'ff00::', 8],
];

const lists = new Map<string, BlockList>();
for (const [kind, family, network, prefix] of ranges) {
  if (!lists.has(kind)) lists.set(kind, new BlockList());
  lists.get(kind)!.addSubnet(network, prefix, family);
}

/** The kind of a non-public address (`loopback`, `private`, `link-local`, …); undefined for a public one. */
export function nonPublicKind(address: string): string | undefined {
  let family = isIP(address);
  if (family === 0) return 'not an IP address';
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) [address, family] = [mapped[1]!, 4];
  for (const [kind, list] of lists) if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return kind;
  return undefined;
}
