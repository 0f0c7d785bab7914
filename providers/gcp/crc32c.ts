/**
 * CRC32C for @google-cloud/storage's `crc32cGenerator` option: slicing-by-8, ~500 MiB/s against
 * ~115 MiB/s for the SDK's byte-at-a-time table, which otherwise caps every upload of a process.
 */
import type { CRC32CValidator } from '@google-cloud/storage';

/** Castagnoli tables for slicing-by-8: table k maps a byte that is k positions further back. */
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * CRC32C for the SDK's `crc32cGenerator` option: the same checksum as its `CRC32C` class (checked
 * against it in test/integration/gcp-storage.test.ts), eight bytes per step instead of one.
 */
export class FastCrc32c implements CRC32CValidator {
  private crc = 0;

  update(data: Buffer): void {
    const t = CRC_TABLES;
    let c = ~this.crc;
    let i = 0;
    const end = data.length - (data.length & 7);
    for (; i < end; i += 8) {
      const a = c ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
      c =
        (t[1792 + (a & 0xff)] as number) ^
        (t[1536 + ((a >>> 8) & 0xff)] as number) ^
        (t[1280 + ((a >>> 16) & 0xff)] as number) ^
        (t[1024 + (a >>> 24)] as number) ^
        (t[768 + (data[i + 4] as number)] as number) ^
        (t[512 + (data[i + 5] as number)] as number) ^
        (t[256 + (data[i + 6] as number)] as number) ^
        (t[data[i + 7] as number] as number);
    }
    for (; i < data.length; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
    this.crc = ~c;
  }

  /** Base64 of the big-endian value, as Cloud Storage reports it. */
  toString(): string {
    const out = Buffer.alloc(4);
    out.writeInt32BE(this.crc | 0);
    return out.toString('base64');
  }

  validate(value: string): boolean {
    return value === this.toString();
  }
}
