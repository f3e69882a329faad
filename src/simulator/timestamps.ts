/**
 * An order's update time must grow strictly with every change, even when two changes fall in the
 * same millisecond or the clock steps back: consumers order snapshots by it.
 */
export function nextTimestamp (previousMs: number, nowMs: number): number {
  return Math.max(nowMs, previousMs + 1)
}
