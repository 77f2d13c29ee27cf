// Text as the API measures it.

/** The text between two UTF-8 byte offsets of `text` (the API counts in bytes). */
export function byteSlice(text: string, start: number, end: number): string {
  const bytes = new TextEncoder().encode(text);
  return new TextDecoder().decode(bytes.slice(start, end));
}
