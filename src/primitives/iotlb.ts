/**
 * IOMMU translation cache (IOTLB), direct mapped by page number: a DMA to a page whose
 * entry is present costs nothing extra, a miss costs a page walk and fills the entry.
 * Direct mapping is a simplification of the real set-associative cache; the reach
 * (entries x page size) is what matters for the ring-buffer access pattern.
 */
export class Iotlb {
  private readonly tags: Float64Array;
  private readonly pageBytes: number;
  /** 1 / pageBytes, exact (a power of two): page numbers by multiplication. */
  private readonly invPageBytes: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly entries: number,
    pageKib: number,
    readonly missPs: number,
  ) {
    if (!(Number.isInteger(entries) && entries >= 1)) throw new RangeError('iotlb: entries must be a positive integer');
    const pageBytes = pageKib * 1024;
    const shift = Math.log2(pageBytes);
    if (!Number.isInteger(shift)) throw new RangeError(`iotlb: page size ${pageKib} KiB is not a power of two`);
    this.pageBytes = pageBytes;
    this.invPageBytes = 1 / pageBytes;
    this.tags = new Float64Array(entries).fill(-1);
  }

  /** Translates a DMA to [address, address + bytes); returns the added latency [ps]. */
  translate(address: number, bytes: number): number {
    const inv = this.invPageBytes;
    const first = Math.floor(address * inv);
    const last = Math.floor((address + (bytes > 1 ? bytes : 1) - 1) * inv);
    const entries = this.entries;
    let extra = 0;
    for (let page = first; page <= last; page++) {
      const slot = page < entries ? page : page % entries;
      if (this.tags[slot] === page) {
        this.hits++;
      } else {
        this.tags[slot] = page;
        this.misses++;
        extra += this.missPs;
      }
    }
    return extra;
  }
}
