const BLOCK = 512;

/**
 * A ustar archive holding one regular file: enough for a layer that tools can unpack, and byte-for-byte
 * reproducible (fixed owner, mode and mtime).
 */
export function tarOneFile(path: string, content: Uint8Array, mtimeSeconds: number): Buffer {
  if (Buffer.byteLength(path) > 100) throw new RangeError(`memory-registry: tar path "${path}" is longer than 100 bytes`);
  const header = Buffer.alloc(BLOCK);
  header.write(path, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(content.length, 12), 124);
  header.write(octal(mtimeSeconds, 12), 136);
  header.write(' '.repeat(8), 148); // the checksum is computed with its own field as spaces
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  header.write('root', 265);
  header.write('root', 297);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  header.write(`${checksum.toString(8).padStart(6, '0')}\u0000 `, 148);
  const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, content, Buffer.alloc(padding), Buffer.alloc(BLOCK * 2)]);
}

function octal(value: number, width: number): string {
  return `${Math.floor(value).toString(8).padStart(width - 1, '0')}\u0000`;
}
