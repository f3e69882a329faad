/** Polls until the condition holds: for what real I/O brings in its own time (a request reaching a stand-in server). */
export async function until (condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}
