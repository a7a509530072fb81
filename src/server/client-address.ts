// Who a request comes from, for the per-address limits: the socket's peer, or, when that peer is a
// proxy the operator trusts (`trustProxy`), the nearest address in X-Forwarded-For that is not one.
import { BlockList, isIP } from 'node:net';

/** Addresses and CIDRs (`10.0.0.0/8`, `::1`, …), comma-separated; throws naming the one that is neither. */
export function parseTrustedProxies(list: string): BlockList {
  const trusted = new BlockList();
  for (const entry of list.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : undefined;
    const prefix = bits === undefined ? undefined : Number(bits);
    if (!family || (prefix !== undefined && (!/^\d+$/.test(bits!) || prefix > (family === 'ipv4' ? 32 : 128)))) {
      throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR`);
    }
    if (prefix === undefined) trusted.addAddress(address, family);
    else trusted.addSubnet(address, prefix, family);
  }
  return trusted;
}

const isTrusted = (trusted: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

/** The client's address for limits; X-Forwarded-For is read only when the peer is trusted. */
export function clientAddress(trusted: BlockList | undefined, peer: string, forwardedFor: string | string[] | undefined): string {
  if (!trusted || !forwardedFor || !isTrusted(trusted, peer)) return peer;
  // Each proxy appends the address it heard from: the nearest untrusted one is the client.
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => h.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return peer; // a hop that is no address: the header cannot be believed past it
    if (!isTrusted(trusted, hop)) return hop;
  }
  return hops[0] ?? peer;
}

/** Whether `peer` is a trusted proxy (exempt from the per-address connection cap: it carries everyone's). */
export const isTrustedProxy = (trusted: BlockList | undefined, peer: string) => Boolean(trusted && isTrusted(trusted, peer));
