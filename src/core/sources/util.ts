// Small normalisation helpers shared by the source clients.

/** Splits a display name ("Jerry C. Hu", "Hu, Jerry C.") into family/given. */
export function splitName(name: string): { family: string; given?: string } {
  const n = name.replace(/\s+/g, ' ').trim();
  if (!n) return { family: '' };
  if (n.includes(',')) {
    const [family, ...rest] = n.split(',');
    const given = rest.join(',').trim();
    return given ? { family: family.trim(), given } : { family: family.trim() };
  }
  const parts = n.split(' ');
  if (parts.length === 1) return { family: n };
  // Particles (van, de, von…) belong to the family name.
  let i = parts.length - 1;
  while (i > 1 && /^(van|von|de|der|den|del|della|di|da|du|la|le|dos|das|ter|ten|bin|ibn|al)$/i.test(parts[i - 1])) i--;
  return { family: parts.slice(i).join(' '), given: parts.slice(0, i).join(' ') };
}

export function stripTags(s: string): string {
  return s
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function firstString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (Array.isArray(v)) for (const x of v) if (typeof x === 'string' && x.trim()) return x.trim();
  return undefined;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function normVersion(v: unknown): 'publishedVersion' | 'acceptedVersion' | 'submittedVersion' | undefined {
  return v === 'publishedVersion' || v === 'acceptedVersion' || v === 'submittedVersion' ? v : undefined;
}
