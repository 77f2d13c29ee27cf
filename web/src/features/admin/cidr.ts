// Whether an allowlist entry covers an address, for the console's warning before a
// save: the API decides (and refuses a list that shuts the admin out); this only lets
// the admin see it coming.

function v4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function v6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return null;
  const [head, tail] = s.includes('::') ? s.split('::') : [s, null];
  const words = (part: string) => (part === '' ? [] : part.split(':'));
  const expand = (ws: string[]): number[] | null => {
    const out: number[] = [];
    for (const [i, w] of ws.entries()) {
      // An embedded IPv4 address (::ffff:192.0.2.1) is the last two words.
      if (i === ws.length - 1 && w.includes('.')) {
        const n = v4(w);
        if (n === null) return null;
        out.push(Number(n >> 16n), Number(n & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(w)) out.push(parseInt(w, 16));
      else return null;
    }
    return out;
  };
  const h = expand(words(head));
  const t = tail === null ? [] : expand(words(tail));
  if (!h || !t) return null;
  const missing = 8 - h.length - t.length;
  if ((tail === null && missing !== 0) || missing < 0) return null;
  return [...h, ...Array<number>(missing).fill(0), ...t].reduce((n, w) => (n << 16n) | BigInt(w), 0n);
}

function parse(ip: string): { n: bigint; bits: number } | null {
  const four = v4(ip);
  if (four !== null) return { n: four, bits: 32 };
  const six = v6(ip);
  return six === null ? null : { n: six, bits: 128 };
}

/** true when `cidr` (an address or a network) contains `ip`; false when not or unreadable. */
export function covers(cidr: string, ip: string): boolean {
  const [net, len] = cidr.trim().split('/');
  const a = parse(net);
  const b = parse(ip.trim());
  if (!a || !b || a.bits !== b.bits) return false;
  const prefix = len === undefined ? a.bits : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > a.bits) return false;
  const shift = BigInt(a.bits - prefix);
  return a.n >> shift === b.n >> shift;
}
