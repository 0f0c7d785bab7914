/**
 * CRC-32C (Castagnoli), as GCS reports it: the big-endian 4-byte value, base64. Written here instead of reusing the
 * SDK's CRC32C class so that the fake and the client do not share an implementation (a shared bug would validate).
 */
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  // Slicing-by-8 tables: 8 bytes per step keeps 20 MB under ~50 ms.
  for (let n = 0; n < 256; n++) {
    let c = t0[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t0[c & 0xff] as number) ^ (c >>> 8);
      (tables[k] as Uint32Array)[n] = c >>> 0;
    }
  }
  return tables;
})();

export class Crc32c {
  private crc = 0xffffffff;

  update(buf: Uint8Array): this {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
      Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
    ];
    let crc = this.crc;
    let i = 0;
    const end8 = buf.length - (buf.length % 8);
    while (i < end8) {
      const a = (crc ^ ((buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24))) >>> 0;
      crc =
        (t7[a & 0xff] as number) ^
        (t6[(a >>> 8) & 0xff] as number) ^
        (t5[(a >>> 16) & 0xff] as number) ^
        (t4[a >>> 24] as number) ^
        (t3[buf[i + 4] as number] as number) ^
        (t2[buf[i + 5] as number] as number) ^
        (t1[buf[i + 6] as number] as number) ^
        (t0[buf[i + 7] as number] as number);
      i += 8;
    }
    while (i < buf.length) {
      crc = (t0[(crc ^ (buf[i] as number)) & 0xff] as number) ^ (crc >>> 8);
      i++;
    }
    this.crc = crc >>> 0;
    return this;
  }

  value(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }

  base64(): string {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.value());
    return out.toString('base64');
  }
}
