import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/primitives/fifo.js';

describe('Fifo', () => {
  it('push, unshift and shift agree with an array model across wrap-around and growth', () => {
    const q = new Fifo<number>(Infinity, 2);
    const model: number[] = [];
    let x = 12345;
    let next = 0;
    for (let step = 0; step < 5000; step++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const r = x % 10;
      if (r < 4) {
        q.push(next);
        model.push(next++);
      } else if (r < 6) {
        q.unshift(next);
        model.unshift(next++);
      } else {
        expect(q.shift()).toBe(model.shift());
      }
      expect(q.length).toBe(model.length);
      expect(q.peek()).toBe(model[0]);
      expect(q.peekLast()).toBe(model[model.length - 1]);
    }
  });

  it('unshift puts an item ahead of those queued and refuses when full', () => {
    const q = new Fifo<string>(3);
    q.push('b');
    q.push('c');
    expect(q.unshift('a')).toBe(true);
    expect(q.unshift('z')).toBe(false);
    expect(q.refused).toBe(1);
    expect(q.maxLength).toBe(3);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual(['a', 'b', 'c', undefined]);
  });
});
