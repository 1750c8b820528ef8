/** The stored form of an address: trimmed and NFC-normalised, case kept for display. */
export function normalizeEmail(input: string): string {
  return input.trim().normalize('NFC');
}

/** The form addresses are compared in: one account per canonical address. */
export function canonicalEmail(input: string): string {
  return normalizeEmail(input).toLowerCase();
}

/** The part before the last `@`, lowercased; passwords may not contain it. */
export function emailLocalPart(input: string): string {
  const canonical = canonicalEmail(input);
  return canonical.slice(0, canonical.lastIndexOf('@'));
}
